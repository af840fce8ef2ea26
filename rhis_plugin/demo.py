"""``rhis demo``: the whole pipeline on a CPU in minutes, with no download.

Generates synthetic people scenes (or takes COCO folders), trains a small RHIS on GT boxes, evaluates on held-out
images (COCO mask AP in image space on GT boxes, and the reference's ROI-space target IoU against the "box filled"
baseline), and writes overlays, a loss curve, a metrics table and the trained model.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from PIL import Image, ImageDraw

from .data.coco_dataset import CocoPersonDataset
from .data.coco_eval import CocoAccumulator
from .data.synthetic import SceneConfig, generate_dataset
from .deploy.pipeline import draw_overlay
from .models import build_rhis, save_rhis
from .models.rhis import RHIS
from .postprocess import PostprocessConfig
from .training import TrainConfig, evaluate_target_iou, train_rhis

__all__ = ['run_demo', 'mask_ap_on_gt_boxes', 'plot_loss_curve']


@torch.no_grad()
def mask_ap_on_gt_boxes(model: RHIS, dataset: CocoPersonDataset, device: str = 'cpu',
                        postprocess: PostprocessConfig = PostprocessConfig()) -> dict[str, float]:
    """COCO mask AP of RHIS on GT boxes, masks pasted back into each image (oracle-box mask AP)."""
    model.to(device).eval()
    accumulator = CocoAccumulator()
    for index in range(len(dataset)):
        sample = dataset[index]
        image_id = accumulator.add_image(*sample['image'].shape[-2:], sample['masks'].numpy())
        if len(sample['boxes']) == 0:
            continue
        pasted = model.predict(sample['image'][None].to(device), [sample['boxes'].to(device)], postprocess)[0]
        accumulator.add_detections(image_id, sample['boxes'].numpy(), pasted.scores.cpu().numpy(),
                                   pasted.masks.cpu().numpy())
    return accumulator.evaluate()


def plot_loss_curve(history: list[dict[str, float]], path: Path, size: tuple[int, int] = (640, 360)) -> Path:
    """A small PNG line chart of the total loss (PIL only, no plotting library needed)."""
    width, height = size
    image = Image.new('RGB', size, 'white')
    draw = ImageDraw.Draw(image)
    left, right, top, bottom = 60, width - 20, 20, height - 40
    draw.rectangle([left, top, right, bottom], outline='black')
    if history:
        iters = np.array([h['iter'] for h in history], dtype=np.float64)
        losses = np.array([h['loss'] for h in history], dtype=np.float64)
        lo, hi = losses.min(), max(losses.max(), losses.min() + 1e-6)
        span = max(iters.max() - iters.min(), 1.0)
        points = [(left + (i - iters.min()) / span * (right - left), bottom - (v - lo) / (hi - lo) * (bottom - top))
                  for i, v in zip(iters, losses)]
        if len(points) > 1:
            draw.line(points, fill=(0, 90, 200), width=2)
        else:
            draw.point(points, fill=(0, 90, 200))
        draw.text((5, top), f'{hi:.2f}', fill='black')
        draw.text((5, bottom - 10), f'{lo:.2f}', fill='black')
        draw.text((left, bottom + 10), f'iter {int(iters.min())}', fill='black')
        draw.text((right - 70, bottom + 10), f'iter {int(iters.max())}', fill='black')
    draw.text((left + 10, top + 5), 'training loss', fill='black')
    image.save(path)
    return path


def run_demo(out_dir: str | Path = 'outputs/demo', train: str | Path | None = None, val: str | Path | None = None,
             preset: str = 'rhis_b0_64x48', iters: int = 300, minutes: float | None = None, num_train: int = 200,
             num_val: int = 40, image_size: int = 128, num_overlays: int = 8, device: str = 'cpu', seed: int = 0,
             log: Callable[[str], None] = print) -> dict[str, Any]:
    """Runs the demo and returns its metrics; everything it writes is under ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    if train is None or val is None:
        scene = SceneConfig(height=image_size, width=image_size)
        train, val = out_dir / 'data' / 'train', out_dir / 'data' / 'val'
        log(f'generating {num_train} + {num_val} synthetic scenes in {out_dir / "data"}')
        generate_dataset(train, num_train, seed=seed, cfg=scene)
        generate_dataset(val, num_val, seed=seed + 1, cfg=scene)
        letterbox = None
    else:
        letterbox = (image_size, image_size)
    train_set = CocoPersonDataset(train, image_size=letterbox)
    val_roi = CocoPersonDataset(val, image_size=letterbox)
    val_images = CocoPersonDataset(val)           # original sizes, for image-space mask AP

    model = build_rhis(preset)
    log(f'training {preset} for {iters} iterations' + (f' or {minutes:g} minutes' if minutes else '') + f' on {device}')
    history = train_rhis(model, train_set, TrainConfig(iters=iters, lr=5e-3, seed=seed, log_every=max(iters // 15, 1),
                                                       max_seconds=None if minutes is None else minutes * 60),
                         device=device, log=log)
    metrics: dict[str, Any] = {'preset': preset, 'iterations': history[-1]['iter'] if history else 0}
    metrics.update(evaluate_target_iou(model, val_roi, device=device))
    metrics.update(mask_ap_on_gt_boxes(model, val_images, device))
    metrics['seconds'] = round(time.perf_counter() - start, 1)

    overlays = out_dir / 'overlays'
    overlays.mkdir(exist_ok=True)
    model.eval()
    for index in range(min(num_overlays, len(val_images))):
        sample = val_images[index]
        masks = model.predict(sample['image'][None].to(device), [sample['boxes'].to(device)])[0].masks.cpu().numpy()
        image = (sample['image'].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
        draw_overlay(image, masks, sample['boxes'].numpy()).save(overlays / f'val_{index:03d}.jpg', quality=92)
    plot_loss_curve(history, out_dir / 'loss_curve.png')
    save_rhis(model.cpu(), out_dir / 'rhis_demo.pth', **{k: v for k, v in metrics.items() if k != 'preset'},
              preset=preset)
    (out_dir / 'metrics.json').write_text(json.dumps(metrics, indent=2))
    rows = [('ROI target IoU (GT boxes)', metrics['target_iou']),
            ('"box filled" baseline target IoU', metrics['box_filled_iou']),
            ('mask AP, image space, GT boxes', metrics['segm_AP']),
            ('mask AP50', metrics['segm_AP50']), ('mask AP75', metrics['segm_AP75'])]
    table = '| metric | value |\n|---|---|\n' + '\n'.join(f'| {name} | {value:.4f} |' for name, value in rows)
    (out_dir / 'metrics.md').write_text(f'# rhis demo: {preset}, {metrics["iterations"]} iterations\n\n{table}\n')
    log(table)
    log(f'wrote {out_dir}/: overlays/ ({min(num_overlays, len(val_images))} images), loss_curve.png, metrics.md, '
        f'metrics.json, rhis_demo.pth ({metrics["seconds"]:.0f}s)')
    return metrics
