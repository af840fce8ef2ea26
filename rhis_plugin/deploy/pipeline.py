"""Detector + RHIS over images, folders or videos: overlays, per-instance PNG masks and a COCO results file.

Outputs are written image by image, with a progress line per finished image, so an interrupted run (Ctrl-C,
SIGTERM, a crash in the detector) keeps what it finished, ``results.json`` included, and ``--resume`` goes on
from there instead of starting again.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sys
import threading
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

IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.webp', '.tif', '.tiff')
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


def _image_files(source: Path, recursive: bool) -> list[Path]:
    pattern = source.rglob('*') if recursive else source.iterdir()
    files = sorted(p for p in pattern if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(f'no images ({", ".join(IMAGE_SUFFIXES)}) in {source}'
                         + ('' if recursive else ' (subfolders: --recursive)'))
    return files


def _frame_count(source: str | Path, recursive: bool = False) -> int | None:
    """How many frames :func:`iter_frames` will give (for a progress bar), ``None`` when unknown."""
    source = Path(source)
    try:
        if source.is_dir():
            return len(_image_files(source, recursive))
        if source.suffix.lower() in VIDEO_SUFFIXES:
            cv2 = require('cv2', extra='video', feature='reading videos')
            capture = cv2.VideoCapture(str(source))
            count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
            capture.release()
            return count or None
        return 1
    except (ValueError, ImportError):
        return None


def iter_frames(source: str | Path, on_error: Callable[[Path, Exception], None] | None = None,
                recursive: bool = False, skip: set[str] | None = None) -> Iterator[tuple[str, np.ndarray | None]]:
    """(name, RGB uint8 image) for an image, every image of a folder (sorted; ``recursive``: and of its subfolders,
    named by their path inside it), or every frame of a video (``<video stem>_<frame index>``). Names in ``skip``
    come with ``None`` instead of an image (not read). An unreadable image raises ``ValueError``, or, with
    ``on_error``, is reported to it and skipped.
    """
    source = Path(source)
    skip = skip or set()
    if not source.exists():
        raise FileNotFoundError(f'source not found: {source}')
    if source.is_dir():
        files = _image_files(source, recursive)
    elif source.suffix.lower() in VIDEO_SUFFIXES:
        yield from ((name, None if name in skip else frame) for name, frame in _video_frames(source))
        return
    else:
        files = [source]
    for path in files:
        name = path.relative_to(source).as_posix() if source.is_dir() else path.name
        if name in skip:
            yield name, None
            continue
        try:
            image = read_rgb_image(path)
        except ValueError as error:
            if on_error is None:
                raise
            on_error(path, error)
            continue
        yield name, image


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


PROGRESS = '.rhis_progress.jsonl'      # one JSON line per finished image: what --resume skips


def _earlier_outputs(out_dir: Path) -> list[Path]:
    return [p for p in (out_dir / 'overlays', out_dir / 'masks', out_dir / 'results.json', out_dir / PROGRESS)
            if p.exists() and not (p.is_dir() and not any(p.iterdir()))]


def _prepare_out_dir(out_dir: Path, resume: bool, overwrite: bool) -> dict[str, dict]:
    """The finished images of an earlier run to keep (``resume``), after refusing to mix runs or clearing one."""
    earlier = _earlier_outputs(out_dir)
    if earlier and not (resume or overwrite):
        raise ValueError(f'{out_dir} holds the outputs of an earlier run ({", ".join(p.name for p in earlier)}): '
                         'pass --resume to go on with it, or --overwrite to replace it')
    if overwrite and not resume:
        for path in earlier:
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        return {}
    done: dict[str, dict] = {}
    if (out_dir / PROGRESS).is_file():
        for line in (out_dir / PROGRESS).read_text().splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:      # a line cut by a hard kill: that image is done again
                continue
            done[record['name']] = record
    return done


def _output_stem(name: str, used: set[str]) -> str:
    """A file stem for an image's outputs: its name without the suffix (subfolders joined by ``__``), made unique
    (``bus.jpg`` and ``bus.png`` become ``bus`` and ``bus_png``)."""
    path = Path(name)
    stem = str(path.with_suffix('')).replace('/', '__').replace('\\', '__')
    candidate, count = stem, 1
    if candidate in used:
        candidate = f'{stem}_{path.suffix.lstrip(".").lower()}' if path.suffix else f'{stem}_1'
    while candidate in used:
        count += 1
        candidate = f'{stem}_{count}'
    used.add(candidate)
    return candidate


def _write_results(out_dir: Path, records: list[dict]) -> None:
    """``results.json`` from the finished images' records, in their order, written atomically."""
    tmp = out_dir / 'results.json.tmp'
    tmp.write_text(json.dumps([entry for record in records for entry in record['results']]))
    os.replace(tmp, out_dir / 'results.json')


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM stops the run the way Ctrl-C does (what was finished is kept), where signals can be caught."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f'signal {signum}')
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_predict(detector: Callable[..., Any], backend: RHISBackend, source: str | Path, out_dir: str | Path,
                postprocess: PostprocessConfig = PostprocessConfig(), binary: bool = False,
                progress: bool = True, strict: bool = False, chunk: int = 64, resume: bool = False,
                overwrite: bool = False, recursive: bool = False) -> dict[str, Any]:
    """Runs the pipeline and writes ``overlays/``, ``masks/`` and ``results.json`` into ``out_dir``, image by image.

    Each image's overlay and masks are written as soon as it is done, and a line in ``out_dir/.rhis_progress.jsonl``
    records it; ``results.json`` (written atomically) holds every finished image when the run ends, is interrupted
    (Ctrl-C, SIGTERM) or fails. ``resume`` skips the images the progress file lists and adds the rest;
    an ``out_dir`` holding an earlier run's outputs is refused unless ``resume`` or ``overwrite`` (which clears
    them first), so no stale masks end up beside a new ``results.json``. Output files are named by the image's stem
    (``bus.jpg`` and ``bus.png`` in one folder become ``bus`` and ``bus_png``; with ``recursive``, subfolders are
    joined by ``__``).

    Unreadable images are reported on stderr and skipped (``strict``: every image is read before anything is
    written, and the first unreadable one stops the run with ``ValueError``). Boxes go through RHIS ``chunk`` at a
    time (:func:`iter_instance_masks`), so memory does not grow with the number of people in a frame.

    Each entry of ``results.json`` scores its mask as ``score = detector_score x mask_quality`` (both kept too):
    the quality (:func:`~rhis_plugin.postprocess.mask_quality`) is near 0 for a box with no person in it, and such
    masks (below ``postprocess.min_quality``) are not painted on the overlay.

    A video source also gets ``<video stem>_overlay.mp4``: the overlays at the video's frame rate.

    Returns:
        Counts: ``frames`` (done in this run), ``resumed`` (skipped as done before), ``instances``,
        ``frames_without_detections``, ``skipped`` (the unreadable files), ``interrupted`` (bool), ``out_dir`` and
        ``video`` (the annotated video's path, ``None`` for images).
    """
    from tqdm import tqdm

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if strict:      # every image readable, before anything is written
        for _ in iter_frames(source, recursive=recursive):
            pass
    done = _prepare_out_dir(out_dir, resume, overwrite)
    (out_dir / 'overlays').mkdir(exist_ok=True)
    (out_dir / 'masks').mkdir(exist_ok=True)
    used = {record['stem'] for record in done.values()}
    frames, resumed, people, empty, skipped, interrupted = 0, 0, 0, 0, [], False

    def skip(path: Path, error: Exception) -> None:
        skipped.append(str(path))
        print(f'rhis: skipped {path}: {error}', file=sys.stderr)

    total = _frame_count(source, recursive)
    with (out_dir / PROGRESS).open('a') as log, _sigterm_as_interrupt():
        try:
            frames_iter = iter_frames(source, on_error=None if strict else skip, recursive=recursive,
                                      skip=set(done))
            for name, image in tqdm(frames_iter, desc='rhis predict', unit='img', total=total,
                                    disable=not progress):
                if image is None:     # finished in an earlier run
                    resumed += 1
                    continue
                stem = _output_stem(name, used)
                # The n-th finished image of the output (earlier runs' included) is image n: ids stay unique on resume.
                record, count, has_detections = _predict_image(detector, backend, name, stem, image, out_dir,
                                                               postprocess, binary, chunk, len(done) + 1)
                frames += 1
                people += count
                empty += not has_detections
                log.write(json.dumps(record) + '\n')
                log.flush()
                done[name] = record
        except KeyboardInterrupt:
            interrupted = True
        finally:
            _write_results(out_dir, list(done.values()))
    video = None
    if not interrupted and Path(source).suffix.lower() in VIDEO_SUFFIXES:
        video = str(_write_video(Path(source), out_dir, list(done.values())))
    return {'frames': frames, 'resumed': resumed, 'instances': people, 'frames_without_detections': empty,
            'skipped': skipped, 'interrupted': interrupted, 'out_dir': str(out_dir), 'video': video}


def _write_video(source: Path, out_dir: Path, records: list[dict]) -> Path:
    """The overlays of a video's frames as ``<out_dir>/<video stem>_overlay.mp4``, at the source's frame rate."""
    cv2 = require('cv2', extra='video', feature='writing videos')
    capture = cv2.VideoCapture(str(source))
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    capture.release()
    path = out_dir / f'{source.stem}_overlay.mp4'
    writer = None
    try:
        for record in records:
            frame = cv2.imread(str(out_dir / 'overlays' / f"{record['stem']}.jpg"))
            if frame is None:
                continue
            if writer is None:
                writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), fps,
                                         (frame.shape[1], frame.shape[0]))
            writer.write(frame)
    finally:
        if writer is not None:
            writer.release()
    return path


def _predict_image(detector: Callable[..., Any], backend: RHISBackend, name: str, stem: str, image: np.ndarray,
                   out_dir: Path, postprocess: PostprocessConfig, binary: bool, chunk: int,
                   default_image_id: int) -> tuple[dict, int, bool]:
    """One image: its overlay and masks written; returns its progress record, its mask count and whether the
    detector found anything."""
    dets = detector(image, name)
    if binary:
        person = backend.person_mask(image, postprocess.threshold)
        masks = person[None] if person.any() else np.zeros((0, *image.shape[:2]), bool)
        chunks = [(np.arange(len(masks)), masks, np.ones(len(masks), np.float32))]
        boxes = np.zeros((len(masks), 4), np.float32)
    else:
        chunks, boxes = iter_instance_masks(backend, image, dets, postprocess, chunk), dets.boxes
    canvas, image_results, count = image.astype(np.float32), [], 0
    image_id = default_image_id if dets.image_id is None else dets.image_id
    categories = None if binary else dets.coco_category_ids()
    for indices, masks, quality in chunks:
        confident = quality >= postprocess.min_quality      # a box with no person in it is not painted
        paint_masks(canvas, masks[confident], indices[confident])
        for index, mask, mask_quality in zip(indices, masks, quality):
            Image.fromarray(mask.astype(np.uint8) * 255).save(out_dir / 'masks' / f'{stem}_{index:03d}.png')
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
        count += len(masks)
    draw_overlay(image, np.zeros((0, *image.shape[:2]), bool), boxes, canvas=canvas).save(
        out_dir / 'overlays' / f'{stem}.jpg', quality=92)
    results = [entry for _, entry in sorted(image_results, key=lambda item: item[0])]
    return {'name': name, 'stem': stem, 'results': results}, count, len(dets.boxes) > 0
