"""Detector + RHIS over images, folders or videos: overlays, per-instance PNG masks and a COCO results file.

Outputs are written to a temporary folder inside ``out_dir`` and moved into place only when the whole run
succeeded, so a failed run leaves no partial files behind.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import torch
from PIL import Image, ImageDraw
from pycocotools import mask as mask_utils

from ..data.images import read_rgb_image, rgb_to_tensor
from .._optional import require
from ..models import rhis_from_weights
from ..models.weights_origin import FIX, RANDOM, RandomWeightsError
from ..postprocess import PostprocessConfig, RoIMasks
from .runtime import OnnxRHIS

__all__ = ['RHISBackend', 'iter_frames', 'iter_instance_masks', 'run_predict', 'draw_overlay', 'paint_masks']

IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.webp')
VIDEO_SUFFIXES = ('.mp4', '.avi', '.mov', '.mkv', '.webm')
PALETTE = np.array([[230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200], [245, 130, 48], [145, 30, 180],
                    [70, 240, 240], [240, 50, 230], [210, 245, 60], [250, 190, 190]], dtype=np.float32)


class RHISBackend:
    """An RHIS checkpoint (PyTorch) or ONNX file behind one interface.

    ``weights``: ``'starter'`` (the bundled model), a ``.pth`` / ``.onnx`` path, or ``'random'``. A model whose frozen
    people-seg UNet is random is refused unless ``allow_random`` (``'random'`` implies it).
    """

    def __init__(self, weights: str | Path = 'starter', device: str = 'cpu', allow_random: bool = False) -> None:
        if str(weights).lower().endswith('.onnx'):
            self.onnx, self.model = OnnxRHIS(weights), None
            origin = self.onnx.peopleseg_weights
            if origin in (None, RANDOM) and not allow_random:
                why = ('was exported with a frozen people-seg UNet that was never loaded or trained' if origin else
                       "carries no record of where its people-seg UNet's weights came from (not exported by "
                       'rhis_plugin, or its metadata_props were stripped), so it counts as random')
                raise RandomWeightsError(f'rhis predict ({weights}): the ONNX file {why}. Fix: {FIX}.')
        else:
            self.onnx, self.model = None, rhis_from_weights(weights, allow_random=allow_random, source='rhis predict',
                                                            map_location=device, aux_heads=False).eval().to(device)
        self.device = device

    @classmethod
    def from_model(cls, model: Any, device: str = 'cpu') -> 'RHISBackend':
        """A backend around an RHIS model in memory (e.g. one being trained); it is put in eval mode."""
        backend = cls.__new__(cls)
        backend.onnx, backend.model, backend.device = None, model.eval().to(device), device
        return backend

    def roi_masks(self, image: np.ndarray, boxes: np.ndarray, scores: np.ndarray | None = None) -> RoIMasks:
        """ROI-space masks for pixel boxes [N, 4] of one RGB image, to paste on demand."""
        if self.onnx is not None:
            return self.onnx.predict_rois([image], [boxes], None if scores is None else [scores])[0]
        tensor = rgb_to_tensor(image)[None].to(self.device)
        score_tensors = None if scores is None else [torch.as_tensor(np.asarray(scores, np.float32))]
        return self.model.predict_rois(tensor, [torch.as_tensor(boxes).float().to(self.device)], score_tensors)[0]

    def person_mask(self, image: np.ndarray, threshold: float) -> np.ndarray:
        """Binary mode: the people-seg UNet's person mask at the image size."""
        if self.onnx is not None:
            probs = self.onnx.person_probability(image)
        else:
            probs = self.model.person_probability(rgb_to_tensor(image)[None].to(self.device)).cpu()
        return (probs[0, 0] > threshold).numpy()


def _guide(image: np.ndarray, cfg: PostprocessConfig) -> torch.Tensor | None:
    return rgb_to_tensor(image) if cfg.smoothing == 'guided' else None


def iter_frames(source: str | Path,
                on_error: Callable[[Path, Exception], None] | None = None) -> Iterator[tuple[str, np.ndarray]]:
    """(name, RGB uint8 image) for an image, every image of a folder (sorted), or every frame of a video.

    Images are named by their file name, video frames ``<video stem>_<frame index>``. An unreadable image raises
    ``ValueError``, or, with ``on_error``, is reported to it and skipped.
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
            image = read_rgb_image(path)
        except ValueError as error:
            if on_error is None:
                raise
            on_error(path, error)
            continue
        yield path.name, image


def _video_frames(path: Path) -> Iterator[tuple[str, np.ndarray]]:
    cv2 = require('cv2', extra='video', feature='reading videos')
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


def paint_masks(canvas: np.ndarray, masks: np.ndarray, indices: Sequence[int] | None = None,
                alpha: float = 0.5) -> np.ndarray:
    """Blends each mask's palette colour (by its instance index) into a float32 RGB canvas, in place."""
    indices = range(len(masks)) if indices is None else indices
    for index, mask in zip(indices, masks):
        canvas[mask] = (1 - alpha) * canvas[mask] + alpha * PALETTE[index % len(PALETTE)]
    return canvas


def draw_overlay(image: np.ndarray, masks: np.ndarray, boxes: np.ndarray, alpha: float = 0.5,
                 canvas: np.ndarray | None = None) -> Image.Image:
    """Colour each mask over the image and outline its box (``canvas``: masks already painted by
    :func:`paint_masks`, then ``masks`` may be empty)."""
    if canvas is None:
        canvas = paint_masks(image.astype(np.float32), masks, alpha=alpha)
    overlay = Image.fromarray(canvas.clip(0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(overlay)
    for index, box in enumerate(boxes):
        draw.rectangle([float(v) for v in box], outline=tuple(int(c) for c in PALETTE[index % len(PALETTE)]), width=2)
    return overlay


def iter_instance_masks(backend: 'RHISBackend', image: np.ndarray, dets: Any, postprocess: PostprocessConfig,
                        chunk: int = 64) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(instance indices, bool masks [n, H, W], quality scores [n]) for the detections of one image, ``chunk`` boxes
    at a time in descending score order, so that memory stays bounded however many boxes there are: RHIS runs once
    (ROI-space masks), and :meth:`RoIMasks.iter_paste` pastes them chunk by chunk, exclusive across chunks. Quality is
    :func:`~rhis_plugin.postprocess.mask_quality` (1 for a backend that cannot measure it).
    """
    roi_masks = backend.roi_masks(image, dets.boxes, dets.scores)
    for indices, pasted in roi_masks.iter_paste(postprocess, _guide(image, postprocess), chunk):
        quality = np.ones(len(indices), np.float32) if pasted.quality is None else pasted.quality.cpu().numpy()
        yield indices.cpu().numpy(), pasted.masks.cpu().numpy(), quality


def run_predict(detector: Callable[..., Any], backend: RHISBackend, source: str | Path, out_dir: str | Path,
                postprocess: PostprocessConfig = PostprocessConfig(), binary: bool = False,
                progress: bool = True, strict: bool = False, chunk: int = 64) -> dict[str, Any]:
    """Runs the pipeline and writes ``overlays/``, ``masks/`` and ``results.json`` into ``out_dir``.

    Unreadable images are reported on stderr and skipped (``strict``: the first one stops the run with
    ``ValueError`` and nothing is written). Boxes go through RHIS ``chunk`` at a time (:func:`iter_instance_masks`),
    so memory does not grow with the number of people in a frame.

    Each entry of ``results.json`` scores its mask as ``score = detector_score x mask_quality`` (both kept too):
    the quality (:func:`~rhis_plugin.postprocess.mask_quality`) is near 0 for a box with no person in it, and such
    masks (below ``postprocess.min_quality``) are not painted on the overlay.

    Returns:
        Counts: ``frames``, ``instances``, ``frames_without_detections``, ``skipped`` (the unreadable files), and
        ``out_dir``.
    """
    from tqdm import tqdm

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix='.rhis-', dir=out_dir))
    try:
        (staging / 'overlays').mkdir()
        (staging / 'masks').mkdir()
        results, frames, people, empty, skipped = [], 0, 0, 0, []

        def skip(path: Path, error: Exception) -> None:
            skipped.append(str(path))
            print(f'rhis: skipped {path}: {error}', file=sys.stderr)

        frames_iter = iter_frames(source, on_error=None if strict else skip)
        for name, image in tqdm(frames_iter, desc='rhis predict', unit='img', disable=not progress):
            frames += 1
            stem = Path(name).stem
            dets = detector(image, name)
            if len(dets.boxes) == 0:
                empty += 1
            if binary:
                person = backend.person_mask(image, postprocess.threshold)
                masks = person[None] if person.any() else np.zeros((0, *image.shape[:2]), bool)
                chunks = [(np.arange(len(masks)), masks, np.ones(len(masks), np.float32))]
                boxes = np.zeros((len(masks), 4), np.float32)
            else:
                chunks, boxes = iter_instance_masks(backend, image, dets, postprocess, chunk), dets.boxes
            canvas, image_results = image.astype(np.float32), []
            image_id = frames if dets.image_id is None else dets.image_id
            categories = None if binary else dets.coco_category_ids()
            for indices, masks, quality in chunks:
                confident = quality >= postprocess.min_quality      # a box with no person in it is not painted
                paint_masks(canvas, masks[confident], indices[confident])
                for index, mask, mask_quality in zip(indices, masks, quality):
                    Image.fromarray(mask.astype(np.uint8) * 255).save(staging / 'masks' / f'{stem}_{index:03d}.png')
                    if binary:
                        continue
                    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
                    rle['counts'] = rle['counts'].decode('ascii')
                    x1, y1, x2, y2 = (float(v) for v in boxes[index])
                    image_results.append((int(index), {
                        'file_name': name, 'image_id': int(image_id), 'category_id': int(categories[index]),
                        'bbox': [x1, y1, x2 - x1, y2 - y1], 'score': float(dets.scores[index] * mask_quality),
                        'detector_score': float(dets.scores[index]), 'mask_quality': float(mask_quality),
                        'segmentation': rle}))
                people += len(masks)
            draw_overlay(image, np.zeros((0, *image.shape[:2]), bool), boxes, canvas=canvas).save(
                staging / 'overlays' / f'{stem}.jpg', quality=92)
            results += [entry for _, entry in sorted(image_results, key=lambda item: item[0])]
        (staging / 'results.json').write_text(json.dumps(results))
        for item in staging.iterdir():
            target = out_dir / item.name
            if target.is_dir():
                shutil.copytree(item, target, dirs_exist_ok=True)
            else:
                os.replace(item, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {'frames': frames, 'instances': people, 'frames_without_detections': empty, 'skipped': skipped,
            'out_dir': str(out_dir)}
