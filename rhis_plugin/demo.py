"""``rhis demo``: people in real photos segmented by the bundled starter model, in seconds.

Default: the photos that ship with Ultralytics (``bus.jpg``, ``zidane.jpg``; AGPL-3.0, credit Ultralytics), or
``--source``; person boxes from ``yolo11n.pt`` (cached in the working directory or Ultralytics' weights folder, or
downloaded by Ultralytics when online), and from OpenCV's HOG people detector only when that fails, with a line saying
so (``--detector hog|PATH`` chooses); masks from the starter model, scored by their quality (a box with no person in
it is not painted). Writes ``overlays/``, ``masks/`` (one PNG per person), ``results.json`` and a timing line.

``--synthetic`` (generated scenes) or ``--train DIR --val DIR`` instead runs a short training from a pretrained start
(ImageNet ROI encoder, the starter's people-seg UNet) and writes metrics, a loss curve, overlays and the model.
"""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from .data.coco_dataset import coco_person_dataset
from .data.synthetic import SceneConfig, generate_dataset
from .deploy.evaluate import evaluate_rhis
from .deploy.pipeline import RHISBackend, draw_overlay
from .models import build_rhis, preset_config as build_rhis_config, preset_of_config, rhis_from_weights, save_rhis
from .models.imagenet import imagenet_weights_name
from .postprocess import PostprocessConfig
from .training import TrainConfig, train_rhis
from .weights import STARTER, STARTER_PRESET

SCORES = ('segm_AP', 'segm_AP50', 'segm_AP75')
__all__ = ['run_demo', 'run_training_demo', 'demo_images', 'demo_detector', 'plot_loss_curve']

DEMO_IMAGES = ('bus.jpg', 'zidane.jpg')


def demo_images() -> list[Path]:
    """Ultralytics' bundled photos (``bus.jpg``, ``zidane.jpg``), found in the installed package."""
    from ._optional import require
    ultralytics = require('ultralytics', extra='ultralytics', feature="the demo's bundled photos (or pass --source)")
    assets = Path(ultralytics.__file__).parent / 'assets'
    return [assets / name for name in DEMO_IMAGES if (assets / name).is_file()]


HOG_NOTE = ("OpenCV's HOG people detector finds upright, mostly whole people only: expect missed and wrong boxes, "
            'and the masks are only as good as the boxes (pass --detector with a real detector)')


def demo_detector(spec: str = 'auto', device: str = 'cpu',
                  log: Callable[[str], None] = print) -> tuple[Any, str]:
    """(detector, description) for ``spec``: ``auto`` is ``yolo11n.pt`` as Ultralytics users expect (the cached file,
    or Ultralytics downloads it when online), and OpenCV's HOG people detector only when that fails, with one line
    saying why and what HOG's boxes are worth; ``hog``; or any detector file ``rhis predict`` takes."""
    from .deploy.detectors import cached_ultralytics_weights, load_detector
    if spec == 'auto':
        cached = cached_ultralytics_weights('yolo11n.pt')
        try:
            return load_detector(str(cached or 'yolo11n.pt'), conf=0.25, device=device), str(cached or 'yolo11n.pt')
        except Exception as error:      # offline, no Ultralytics, a broken download: the demo still runs
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            log(f'rhis demo: yolo11n.pt is not available ({reason[:160]}); falling back to HOG. {HOG_NOTE}.')
            return load_detector('hog', conf=0.5, device=device), 'hog'
    if spec == 'hog':
        log(f'rhis demo: {HOG_NOTE}.')
    return load_detector(spec, conf=0.5 if spec == 'hog' else 0.25, device=device), spec


def run_demo(out_dir: str | Path = 'outputs/demo', source: str | Path | None = None, detector: str = 'auto',
             weights: str | Path = STARTER, device: str = 'cpu', log: Callable[[str], None] = print) -> dict[str, Any]:
    """Segments the people in ``source`` (default: Ultralytics' bundled photos) and writes the results.

    Returns:
        ``frames``, ``instances``, ``detector``, ``seconds`` (detector + RHIS + writing, after loading) and ``out_dir``.
    """
    from .deploy.pipeline import run_predict
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if source is None:
        source = out_dir / 'inputs'
        source.mkdir(exist_ok=True)
        for image in demo_images():
            shutil.copyfile(image, source / image.name)
    model, name = demo_detector(detector, device, log)
    backend = RHISBackend(weights, device)
    start = time.perf_counter()
    summary = run_predict(model, backend, source, out_dir, PostprocessConfig(dilation=1), progress=False,
                          overwrite=True)    # a demo's outputs are disposable
    seconds = time.perf_counter() - start
    summary.update(detector=name, weights=str(weights), seconds=round(seconds, 2))
    log(f"rhis demo: {summary['frames']} images, {summary['instances']} people, detector {name}, RHIS {weights}: "
        f"{1000 * seconds / max(summary['frames'], 1):.0f} ms per image on {device} "
        f'({torch.get_num_threads()} threads); wrote {out_dir}/{{overlays/, masks/, results.json}}')
    return summary


def plot_loss_curve(history: list[dict[str, float]], path: Path) -> Path:
    """The training loss per logged window, as a PNG (matplotlib, installed with Ultralytics)."""
    from ._optional import require
    matplotlib = require('matplotlib', extra='ultralytics', feature='the loss curve')
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=100)
    ax.plot([h['iter'] for h in history], [h['loss'] for h in history], marker='o', markersize=3)
    ax.set_xlabel('iteration')
    ax.set_ylabel('training loss (mean over the window)')
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def run_training_demo(out_dir: str | Path = 'outputs/demo', train: str | Path | None = None,
                      val: str | Path | None = None, preset: str = STARTER_PRESET, iters: int = 300,
                      minutes: float | None = None, num_train: int = 200, num_val: int = 40, image_size: int = 128,
                      num_overlays: int = 8, device: str = 'cpu', seed: int = 0, peopleseg: str | Path = STARTER,
                      init: str | Path | None = None, log: Callable[[str], None] = print,
                      amp: bool = False) -> dict[str, Any]:
    """Trains ``preset`` briefly on generated scenes (or ``train``/``val`` folders) and returns its metrics.

    The start is pretrained: ImageNet weights in the ROI encoder (lite presets) and ``peopleseg`` in the frozen
    people-seg UNet (default: the starter model's; ``'random'`` on purpose), or, with ``init`` (``'starter'`` or an
    RHIS checkpoint), that whole model, fine-tuned (``preset`` is then the checkpoint's). ``amp``: mixed precision
    (:class:`~rhis_plugin.training.TrainConfig`). Everything it writes is under ``out_dir``.
    """
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
    train_set = coco_person_dataset(train, image_size=letterbox)
    val_images = coco_person_dataset(val)           # original sizes: scored as `rhis eval` scores them

    if init is not None:
        model = rhis_from_weights(init, source='rhis demo --init', aux_heads=True)
        preset = preset_of_config(model.cfg) or str(init)
    else:
        model = build_rhis(preset, pretrained=imagenet_weights_name(build_rhis_config(preset).roi_encoder) is not None,
                           peopleseg_weights=peopleseg)
    log(f'training {preset} for {iters} iterations' + (f' or {minutes:g} minutes' if minutes else '') + f' on {device}')
    history = train_rhis(model, train_set, TrainConfig(iters=iters, lr=5e-3, seed=seed, log_every=max(iters // 15, 1),
                                                       max_seconds=None if minutes is None else minutes * 60,
                                                       amp=amp),
                         device=device, log=log)
    metrics: dict[str, Any] = {'preset': preset, 'iterations': history[-1]['iter'] if history else 0, 'amp': amp}
    scores = evaluate_rhis(RHISBackend.from_model(model, device), val_images)
    metrics.update({k: scores[k] for k in (*SCORES, 'target_iou', 'box_filled_iou', 'unet_iou')})
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
