"""Detector + RHIS over images, folders or videos: overlays, per-instance PNG masks and a COCO results file.

Outputs are written to a temporary folder inside ``out_dir`` and moved into place only when the whole run
succeeded, so a failed run leaves no partial files behind.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import torch
from PIL import Image, ImageDraw
from pycocotools import mask as mask_utils

from ..data.images import rgb_to_tensor
from ..models import load_rhis
from ..postprocess import PostprocessConfig, union_person_mask
from .runtime import OnnxRHIS

__all__ = ['RHISBackend', 'iter_frames', 'run_predict', 'draw_overlay']

IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.webp')
VIDEO_SUFFIXES = ('.mp4', '.avi', '.mov', '.mkv', '.webm')
PALETTE = np.array([[230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200], [245, 130, 48], [145, 30, 180],
                    [70, 240, 240], [240, 50, 230], [210, 245, 60], [250, 190, 190]], dtype=np.float32)


class RHISBackend:
    """An RHIS checkpoint (PyTorch) or ONNX file behind one interface."""

    def __init__(self, path: str | Path, device: str = 'cpu') -> None:
        path = Path(path)
        if path.suffix.lower() == '.onnx':
            self.onnx, self.model = OnnxRHIS(path), None
        else:
            self.onnx, self.model = None, load_rhis(path, map_location=device, aux_heads=False).eval().to(device)
        self.device = device

    def masks(self, image: np.ndarray, boxes: np.ndarray, cfg: PostprocessConfig):
        if self.onnx is not None:
            return self.onnx.predict([image], [boxes], cfg)[0]
        tensor = rgb_to_tensor(image)[None].to(self.device)
        return self.model.predict(tensor, [torch.from_numpy(boxes).float().to(self.device)], cfg)[0]

    def person_mask(self, image: np.ndarray, threshold: float) -> np.ndarray:
        """Binary mode: the people-seg UNet's person mask at the image size."""
        height, width = image.shape[:2]
        if self.onnx is not None:
            size = self.onnx.image_size or (height, width)
            tensor = rgb_to_tensor(image)[None]
            tensor = torch.nn.functional.interpolate(tensor, size=tuple(size), mode='bilinear', align_corners=False)
            probs = torch.from_numpy(self.onnx.run(tensor.numpy(), np.zeros((0, 5), np.float32))['binary_masks'])
        else:
            tensor = rgb_to_tensor(image)[None].to(self.device)
            with torch.no_grad():
                probs = self.model(tensor, torch.zeros((0, 5), device=self.device))['binary_masks'].cpu()
        return union_person_mask(probs, threshold, (height, width))[0].numpy()


def iter_frames(source: str | Path) -> Iterator[tuple[str, np.ndarray]]:
    """(name, RGB uint8 image) for an image, every image of a folder (sorted), or every frame of a video.

    Images are named by their file name, video frames ``<video stem>_<frame index>``.
    """
    source = Path(source)
    if not source.exists():
        raise FileNotFoundError(f'source not found: {source}')
    if source.is_dir():
        files = sorted(p for p in source.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise ValueError(f'no images ({", ".join(IMAGE_SUFFIXES)}) in {source}')
    elif source.suffix.lower() in VIDEO_SUFFIXES:
        yield from _video_frames(source)
        return
    else:
        files = [source]
    for path in files:
        try:
            with Image.open(path) as image:
                yield path.name, np.asarray(image.convert('RGB'))
        except (OSError, ValueError) as error:
            raise ValueError(f'cannot read image {path}: {error}') from error


def _video_frames(path: Path) -> Iterator[tuple[str, np.ndarray]]:
    import cv2
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise ValueError(f'cannot open video {path}')
    count = 0
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            yield f'{path.stem}_{count:06d}', frame[..., ::-1].copy()
            count += 1
    finally:
        capture.release()
    if count == 0:
        raise ValueError(f'video {path} has no frames')


def draw_overlay(image: np.ndarray, masks: np.ndarray, boxes: np.ndarray, alpha: float = 0.5) -> Image.Image:
    """Colour each mask over the image and outline its box."""
    canvas = image.astype(np.float32).copy()
    for index, mask in enumerate(masks):
        colour = PALETTE[index % len(PALETTE)]
        canvas[mask] = (1 - alpha) * canvas[mask] + alpha * colour
    overlay = Image.fromarray(canvas.clip(0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(overlay)
    for index, box in enumerate(boxes):
        draw.rectangle([float(v) for v in box], outline=tuple(int(c) for c in PALETTE[index % len(PALETTE)]), width=2)
    return overlay


def run_predict(detector: Callable[..., Any], backend: RHISBackend, source: str | Path, out_dir: str | Path,
                postprocess: PostprocessConfig = PostprocessConfig(), binary: bool = False,
                progress: bool = True) -> dict[str, Any]:
    """Runs the pipeline and writes ``overlays/``, ``masks/`` and ``results.json`` into ``out_dir``."""
    from tqdm import tqdm

    from .detectors import JsonDetections

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix='.rhis-', dir=out_dir))
    try:
        (staging / 'overlays').mkdir()
        (staging / 'masks').mkdir()
        results, frames, people, empty = [], 0, 0, 0
        for name, image in tqdm(iter_frames(source), desc='rhis predict', unit='img', disable=not progress):
            frames += 1
            stem = Path(name).stem
            dets = detector(image, name) if isinstance(detector, JsonDetections) else detector(image)
            if len(dets.boxes) == 0:
                empty += 1
            if binary:
                person = backend.person_mask(image, postprocess.threshold)
                masks = person[None] if person.any() else np.zeros((0, *image.shape[:2]), bool)
                boxes = np.zeros((len(masks), 4), np.float32)
            else:
                masks = backend.masks(image, dets.boxes, postprocess).masks.cpu().numpy()
                boxes = dets.boxes
            draw_overlay(image, masks, boxes).save(staging / 'overlays' / f'{stem}.jpg', quality=92)
            for index, mask in enumerate(masks):
                Image.fromarray(mask.astype(np.uint8) * 255).save(staging / 'masks' / f'{stem}_{index:03d}.png')
            if not binary:
                for box, score, label, mask in zip(dets.boxes, dets.scores, dets.labels, masks):
                    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
                    rle['counts'] = rle['counts'].decode('ascii')
                    x1, y1, x2, y2 = (float(v) for v in box)
                    results.append({'file_name': name, 'image_id': frames, 'category_id': int(label) + 1,
                                    'bbox': [x1, y1, x2 - x1, y2 - y1], 'score': float(score),
                                    'segmentation': rle})
            people += len(masks)
        (staging / 'results.json').write_text(json.dumps(results))
        for item in staging.iterdir():
            target = out_dir / item.name
            if target.is_dir():
                shutil.copytree(item, target, dirs_exist_ok=True)
            else:
                os.replace(item, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {'frames': frames, 'instances': people, 'frames_without_detections': empty, 'out_dir': str(out_dir)}
