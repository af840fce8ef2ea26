"""Detector adapters: anything that finds people becomes a callable ``(RGB image, name) -> Detections``.

One way to call every detector: ``detector(image, name)``, where ``name`` is the image's file name (a frame's
``video.mp4#000012``, or ``''`` when there is none). Detectors that look at pixels ignore it; a detections file
(:class:`JsonDetections`) needs it to find the image's boxes. Callers pass it always, so no caller special-cases
one kind of detector.

- :class:`UltralyticsDetector`: ``YOLO``/``RTDETR`` models (``.pt``, ``.yaml``, or Ultralytics' own ONNX exports,
  raw, ``nms=True`` or NMS-free, run by Ultralytics' AutoBackend exactly as ``yolo predict`` runs them);
- :class:`MMDetDetector`: any mmdet config + checkpoint;
- :class:`OnnxDetrDetector`: ONNX files in the DETR export format of RT-DETR, D-FINE and DEIM (inputs ``images``
  [N,3,H,W] RGB/255 and ``orig_target_sizes`` [N,2] = (w, h); outputs ``labels``, ``boxes`` xyxy pixels, ``scores``);
- :class:`OnnxYoloxDetector`: YOLOX's own ONNX exports (one input [1,3,S,S], BGR 0-255 letterboxed top-left; one raw
  output [1, A, 5 + C] over the anchor points of strides 8, 16, 32), decoded and NMS'd here;
- :class:`JsonDetections`: a COCO detections file (``bbox`` xywh, ``score``, ``category_id``), matched to images
  by ``file_name`` or through the ``image_id`` of a COCO annotation file;
- :class:`HOGPeopleDetector`: OpenCV's built-in HOG + linear SVM people detector (Dalal & Triggs), which needs no
  weights file: the demo's fallback when no Ultralytics weights are cached.

Category ids written to COCO results, one rule per detector kind (``Detections.category_ids``):

- COCO-results JSON: the file's own ``category_id`` and ``image_id`` pass through.
- 80-class COCO models (Ultralytics or mmdet models and Ultralytics ONNX exports with COCO's 80 names, DETR
  exports with 0-based labels): labels map through COCO's 80 -> 91 table (person = 1).
- Single-class models: 1 (person).
- DETR exports with ``remap_mscoco_category=True`` already emit COCO ids: ``label_space='coco91'`` passes them.
- Other label sets: ``label + 1``.

Every kind keeps only persons by default: the class named ``person`` (Ultralytics, mmdet), label 0 (DETR
exports, 0-based COCO labels; label 1 with ``label_space='coco91'``), category 1 (JSON).
"""
from __future__ import annotations

import json
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torchvision.ops import batched_nms

from ..data.images import rgb_to_tensor
from .._optional import require
from .onnx_session import onnx_session

__all__ = ['COCO80_TO_91', 'category_ids', 'label_space_of', 'Detections', 'UltralyticsDetector', 'MMDetDetector',
           'OnnxDetrDetector', 'OnnxYoloxDetector',
           'JsonDetections', 'HOGPeopleDetector', 'CheckedDetector', 'valid_boxes',
           'cached_ultralytics_weights', 'load_detector']


# COCO's 80 contiguous classes -> its 91 category ids (person = 1), as in COCO results files.
COCO80_TO_91 = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 27,
                         28, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 46, 47, 48, 49, 50, 51, 52, 53,
                         54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 67, 70, 72, 73, 74, 75, 76, 77, 78, 79, 80,
                         81, 82, 84, 85, 86, 87, 88, 89, 90], dtype=np.int64)
LABEL_SPACES = ('coco80', 'coco91', 'single', 'plus_one')


def category_ids(labels: np.ndarray, label_space: str) -> np.ndarray:
    """COCO category ids of detector labels: ``coco80`` (0-based COCO classes, through COCO's 80 -> 91 table),
    ``coco91`` (already COCO ids), ``single`` (a one-class person model: 1), ``plus_one`` (label + 1)."""
    labels = np.asarray(labels, dtype=np.int64)
    if label_space == 'coco80':
        if len(labels) and (labels.min() < 0 or labels.max() >= len(COCO80_TO_91)):
            raise ValueError(f'labels {sorted(set(labels.tolist()))} are not 0-based COCO classes (0..79)')
        return COCO80_TO_91[labels]
    if label_space == 'coco91':
        return labels.copy()
    if label_space == 'single':
        return np.ones_like(labels)
    if label_space == 'plus_one':
        return labels + 1
    raise ValueError(f'label_space must be one of {LABEL_SPACES}, got {label_space!r}')


def label_space_of(names: Sequence[str]) -> str:
    """The label space of a model from its class names."""
    if len(names) == 1:
        return 'single'
    if len(names) == 80 and str(names[0]).lower() == 'person':
        return 'coco80'
    return 'plus_one'


@dataclass
class Detections:
    """Boxes [N, 4] (x1, y1, x2, y2 pixels of the original image), scores [N], labels [N] (the detector's own),
    ``category_ids`` [N] (COCO category ids for results files; ``None``: ``labels + 1``), the ``image_id`` of
    a COCO-results source, and the detector's own instance masks [N, H, W] (bool, original size) where it was asked
    for them (a segmentation model built with ``masks=True``), to compare them with RHIS's on the same boxes."""
    boxes: np.ndarray
    scores: np.ndarray
    labels: np.ndarray
    category_ids: np.ndarray | None = None
    image_id: int | None = None
    masks: np.ndarray | None = None

    def select(self, keep: np.ndarray) -> 'Detections':
        ids = None if self.category_ids is None else self.category_ids[keep]
        masks = None if self.masks is None else self.masks[keep]
        return Detections(self.boxes[keep], self.scores[keep], self.labels[keep], ids, self.image_id, masks)

    def top(self, max_det: int) -> 'Detections':
        """The ``max_det`` highest-scoring detections, best first (Ultralytics' ``max_det``)."""
        return self.select(np.argsort(-self.scores, kind='stable')[:max_det])

    def coco_category_ids(self) -> np.ndarray:
        return self.labels + 1 if self.category_ids is None else self.category_ids

    @staticmethod
    def empty() -> 'Detections':
        return Detections(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64))


def _filter(dets: Detections, conf: float, classes: Sequence[int] | None) -> Detections:
    keep = dets.scores >= conf
    if classes is not None:
        keep &= np.isin(dets.labels, list(classes))
    return dets.select(keep)


class UltralyticsDetector:
    """An Ultralytics ``YOLO`` / ``RTDETR`` model, a ``.pt`` / ``.yaml`` file, or an Ultralytics export (``.onnx``
    and the other formats AutoBackend runs, with the same pre- and post-processing as ``yolo predict``).
    ``imgsz`` ``None``: the size the model was trained at (as ``yolo predict model=best.pt``), else 640."""

    def __init__(self, model: Any, conf: float = 0.25, classes: Sequence[int] | None = None, imgsz: int | None = None,
                 device: str | None = None, masks: bool = False) -> None:
        ultralytics = require('ultralytics', extra='ultralytics', feature='an Ultralytics detector')
        RTDETR, YOLO = ultralytics.RTDETR, ultralytics.YOLO
        if isinstance(model, (str, Path)):
            path = Path(str(model))
            if 'rtdetr' in path.stem.lower() and path.suffix.lower() in ('.pt', '.yaml', '.yml'):
                model = RTDETR(str(model))
            else:      # an export's task and names come from its metadata
                model = YOLO(str(model), task='detect' if path.suffix.lower() not in ('.pt', '.yaml', '.yml') else None)
        self.model, self.conf, self.imgsz, self.device = model, conf, imgsz, device
        if masks and getattr(model, 'task', None) != 'segment':
            raise ValueError(f'masks=True needs a segmentation model; this one is a {model.task!r} model')
        self.masks = masks
        if classes is None:
            names = model.names.items()
            classes = [int(i) for i, n in names if str(n).lower() == 'person'] or None
        self.classes = classes
        self.label_space = label_space_of([model.names[i] for i in sorted(model.names)])

    def __call__(self, image: np.ndarray, name: str = '') -> Detections:
        # retina_masks: a segmentation model's own masks at the original size (Ultralytics' most precise option).
        extra = {'retina_masks': True} if self.masks else {}
        if self.imgsz is not None:
            extra['imgsz'] = self.imgsz
        result = self.model.predict(np.ascontiguousarray(image[..., ::-1]), conf=self.conf, classes=self.classes,
                                    device=self.device, verbose=False, **extra)[0]
        boxes = result.boxes
        labels = boxes.cls.cpu().numpy().astype(np.int64)
        masks = None
        if self.masks:
            masks = (result.masks.data.cpu().numpy() > 0.5 if result.masks is not None
                     else np.zeros((0, *image.shape[:2]), bool))
        return Detections(boxes.xyxy.cpu().numpy().astype(np.float32), boxes.conf.cpu().numpy(), labels,
                          category_ids(labels, self.label_space), masks=masks)


class MMDetDetector:
    def __init__(self, config: str | Path, checkpoint: str | Path | None, conf: float = 0.3,
                 classes: Sequence[int] | None = (0,), device: str = 'cpu', masks: bool = False) -> None:
        apis = require('mmdet.apis', extra='mmdet', feature='an mmdet detector')
        inference_detector, init_detector = apis.inference_detector, apis.init_detector

        import rhis_plugin.mmdet  # noqa: F401  (registers RT-DETR, RHIS and the checkpoint loader)
        self._infer = inference_detector
        self.model = init_detector(str(config), None if checkpoint is None else str(checkpoint), device=device)
        # Test pipelines may load annotations (our configs do, for oracle boxes); single images have none.
        pipeline = self.model.cfg.test_dataloader.dataset.pipeline
        self.model.cfg.test_dataloader.dataset.pipeline = [t for t in pipeline if t['type'] != 'LoadAnnotations']
        self.conf, self.classes, self.masks = conf, classes, masks
        names = (self.model.dataset_meta or {}).get('classes') or ('person',)
        self.label_space = label_space_of(list(names))

    def __call__(self, image: np.ndarray, name: str = '') -> Detections:
        pred = self._infer(self.model, np.ascontiguousarray(image[..., ::-1])).pred_instances
        labels = pred.labels.cpu().numpy().astype(np.int64)
        masks = None
        if self.masks:
            if 'masks' not in pred:
                raise ValueError(f'{type(self.model).__name__} predicts no masks: masks=True needs an instance '
                                 'segmentation model (e.g. Mask R-CNN)')
            masks = pred.masks.cpu().numpy().astype(bool)
        dets = Detections(pred.bboxes.cpu().numpy().astype(np.float32), pred.scores.cpu().numpy(), labels,
                          category_ids(labels, self.label_space), masks=masks)
        return _filter(dets, self.conf, self.classes)


class OnnxDetrDetector:
    """RT-DETR / D-FINE / DEIM ONNX exports.

    Args:
        label_space: ``'coco80'`` (default: 0-based contiguous COCO labels, person = 0, what these repositories
            export unless ``remap_mscoco_category=True``) or ``'coco91'`` (COCO category ids, person = 1).
        classes: labels that are people (default: the person label of ``label_space``).
    """

    def __init__(self, path: str | Path, conf: float = 0.5, classes: Sequence[int] | None = None,
                 input_size: tuple[int, int] | None = None, label_space: str = 'coco80') -> None:
        if label_space not in ('coco80', 'coco91'):
            raise ValueError(f"label_space must be 'coco80' or 'coco91' for DETR exports, got {label_space!r}")
        if classes is None:
            classes = (0,) if label_space == 'coco80' else (1,)
            print(f'rhis: {Path(path).name}: assuming {label_space} labels, person = {classes[0]} (change with '
                  f"--label-space {'coco91' if label_space == 'coco80' else 'coco80'} or --classes)", file=sys.stderr)
        self.label_space = label_space
        self.session = onnx_session(path, what='detector ONNX')
        inputs = {i.name: i for i in self.session.get_inputs()}
        outputs = [o.name for o in self.session.get_outputs()]
        if set(inputs) != {'images', 'orig_target_sizes'} or not {'labels', 'boxes', 'scores'} <= set(outputs):
            raise ValueError(f'{path} is not a DETR-format detector (inputs images, orig_target_sizes; outputs '
                             f'labels, boxes, scores): inputs {sorted(inputs)}, outputs {outputs}')
        shape = inputs['images'].shape
        static = tuple(shape[2:]) if all(isinstance(v, int) for v in shape[2:]) else None
        self.input_size = input_size or static or (640, 640)
        self.outputs, self.conf, self.classes = outputs, conf, classes

    def __call__(self, image: np.ndarray, name: str = '') -> Detections:
        height, width = image.shape[:2]
        tensor = rgb_to_tensor(image)[None]
        tensor = F.interpolate(tensor, size=self.input_size, mode='bilinear', align_corners=False)
        # The boxes come out in the pixel space of orig_target_sizes: give the original size, no un-letterboxing.
        out = dict(zip(self.outputs, self.session.run(None, {
            'images': tensor.numpy(), 'orig_target_sizes': np.array([[width, height]], dtype=np.int64)})))
        labels = out['labels'][0].astype(np.int64)
        dets = Detections(out['boxes'][0].astype(np.float32), out['scores'][0].astype(np.float32), labels)
        dets = _filter(dets, self.conf, self.classes)
        dets.category_ids = category_ids(dets.labels, self.label_space)
        return dets


class OnnxYoloxDetector:
    """YOLOX ONNX exports as YOLOX's own ``tools/export_onnx.py`` writes them (raw head, no decoding, no NMS).

    Pre-processing as YOLOX's demo: the image letterboxed into the top-left corner of the S x S input (scale =
    min(S / h, S / w), bilinear), padded with 114, BGR, 0-255. Decoding: anchor points of strides 8, 16 and 32
    (row-major grids, concatenated in that order), centre = (xy + grid) * stride, size = exp(wh) * stride, score =
    objectness x the best class's score (both after the sigmoid in the export), then class-aware NMS (IoU ``iou``).

    Args:
        path: the ONNX file.
        conf: score threshold.
        classes: labels kept (default: person, label 0 of COCO's 80 classes).
        iou: NMS IoU threshold (YOLOX's demo: 0.45; its COCO evaluation: 0.65).
    """

    STRIDES = (8, 16, 32)

    def __init__(self, path: str | Path, conf: float = 0.25, classes: Sequence[int] | None = None,
                 iou: float = 0.65) -> None:
        self.session = onnx_session(path, what='detector ONNX')
        layout = yolox_layout(self.session)
        if layout is None:
            raise ValueError(f'{path} is not a raw YOLOX export: one input [1, 3, S, S] and one output '
                             '[1, anchors of strides 8/16/32, 5 + classes]')
        self.input_name, self.size, self.num_classes = layout
        self.conf, self.iou = conf, iou
        self.classes = (0,) if classes is None else tuple(classes)
        self.label_space = 'coco80' if self.num_classes == 80 else 'single' if self.num_classes == 1 else 'plus_one'
        grids, strides = [], []
        for stride in self.STRIDES:
            side = self.size // stride
            ys, xs = np.meshgrid(np.arange(side), np.arange(side), indexing='ij')
            grids.append(np.stack([xs, ys], -1).reshape(-1, 2))
            strides.append(np.full((side * side, 1), stride))
        self.grid = np.concatenate(grids).astype(np.float32)
        self.stride = np.concatenate(strides).astype(np.float32)

    def __call__(self, image: np.ndarray, name: str = '') -> Detections:
        height, width = image.shape[:2]
        scale = min(self.size / height, self.size / width)
        tensor = torch.from_numpy(np.ascontiguousarray(image[..., ::-1])).permute(2, 0, 1)[None].float()
        resized = F.interpolate(tensor, size=(max(1, round(height * scale)), max(1, round(width * scale))),
                                mode='bilinear', align_corners=False)
        padded = torch.full((1, 3, self.size, self.size), 114.0)
        padded[..., :resized.shape[2], :resized.shape[3]] = resized
        raw = self.session.run(None, {self.input_name: padded.numpy()})[0][0]
        centre = (raw[:, :2] + self.grid) * self.stride
        size = np.exp(np.clip(raw[:, 2:4], -20.0, 20.0)) * self.stride
        labels = raw[:, 5:].argmax(1)
        scores = raw[:, 4] * raw[np.arange(len(raw)), 5 + labels]
        keep = (scores >= self.conf) & np.isin(labels, self.classes)
        boxes = np.concatenate([centre - size / 2, centre + size / 2], 1)[keep] / scale
        boxes = np.clip(boxes, 0, [width, height, width, height]).astype(np.float32)
        scores, labels = scores[keep].astype(np.float32), labels[keep].astype(np.int64)
        order = batched_nms(torch.from_numpy(boxes), torch.from_numpy(scores), torch.from_numpy(labels), self.iou)
        order = order.numpy()
        return Detections(boxes[order], scores[order], labels[order], category_ids(labels[order], self.label_space))


def yolox_layout(session: Any) -> tuple[str, int, int] | None:
    """(input name, input size S, classes) of a session whose graph is a raw YOLOX head, else ``None``."""
    inputs, outputs = session.get_inputs(), session.get_outputs()
    if len(inputs) != 1 or len(outputs) != 1:
        return None
    shape_in, shape_out = inputs[0].shape, outputs[0].shape
    fixed = all(isinstance(v, int) for v in (*shape_in[2:], *shape_out[1:]))
    if len(shape_in) != 4 or len(shape_out) != 3 or not fixed:
        return None
    size = shape_in[2]
    anchors = sum((size // s) ** 2 for s in OnnxYoloxDetector.STRIDES)
    if shape_in[1] != 3 or shape_in[3] != size or size % 32 or shape_out[1] != anchors or shape_out[2] < 6:
        return None
    return inputs[0].name, size, shape_out[2] - 5


class JsonDetections:
    """Detections read from a COCO results file; call it with the image's file name as ``name`` (matched by its
    last path component).

    Category ids and image ids pass through to the results; ``classes`` are COCO category ids (default: person,
    1; ``None`` keeps every category).
    """

    def __init__(self, path: str | Path, ann_file: str | Path | None = None, conf: float = 0.0,
                 classes: Sequence[int] | None = (1,)) -> None:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f'detections file not found: {path}')
        try:
            entries = json.loads(path.read_text())
        except json.JSONDecodeError as error:
            raise ValueError(f'{path} is not JSON: {error}') from error
        if not isinstance(entries, list) or not all(isinstance(e, dict) and 'bbox' in e for e in entries):
            raise ValueError(f'{path} must be a COCO results list of {{"bbox": [x, y, w, h], "score": ...}}')
        names: dict[int, str] = {}
        if ann_file is not None:
            names = {img['id']: Path(img['file_name']).name for img in json.loads(Path(ann_file).read_text())['images']}
        self.by_name: dict[str, list[dict]] = {}
        for entry in entries:
            name = entry.get('file_name') or names.get(entry.get('image_id'))
            if name is None:
                raise ValueError(f'{path}: a detection has neither file_name nor an image_id found in the '
                                 'annotation file (pass ann_file)')
            self.by_name.setdefault(Path(name).name, []).append(entry)
        self.conf, self.classes = conf, classes

    def __call__(self, image: np.ndarray, name: str = '') -> Detections:
        entries = self.by_name.get(Path(name).name, [])
        if not entries:
            return Detections.empty()
        xywh = np.array([e['bbox'] for e in entries], dtype=np.float32)
        ids = np.array([e.get('category_id', 1) for e in entries], dtype=np.int64)
        image_ids = {e['image_id'] for e in entries if 'image_id' in e}
        dets = Detections(np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1),
                          np.array([e.get('score', 1.0) for e in entries], dtype=np.float32), ids, ids,
                          image_ids.pop() if len(image_ids) == 1 else None)
        return _filter(dets, self.conf, self.classes)


class HOGPeopleDetector:
    """OpenCV's default HOG people detector (Dalal & Triggs' upright-person SVM), label 0 = person; no weights file.

    The image is scaled to a long side of ``max_side`` (HOG's cost grows with the area) and padded below with grey
    by half its height, so people cut off by the bottom edge (upper bodies) can still fill the full-body window;
    boxes are clipped back to the image. Overlapping windows are merged by NMS (IoU ``iou``) and the SVM margin
    mapped to a score in (0, 1) by a logistic function; ``conf`` applies to that score. A fallback for demos, far
    below a trained detector.
    """

    def __init__(self, conf: float = 0.5, max_side: int = 320, iou: float = 0.45) -> None:
        self.cv2 = require('cv2', extra='video', feature='the HOG people detector')
        self.hog = self.cv2.HOGDescriptor()
        self.hog.setSVMDetector(self.cv2.HOGDescriptor_getDefaultPeopleDetector())
        self.conf, self.max_side, self.iou = conf, max_side, iou
        self.label_space = 'single'

    def __call__(self, image: np.ndarray, name: str = '') -> Detections:
        cv2 = self.cv2
        height, width = image.shape[:2]
        scale = min(1.0, self.max_side / max(height, width))
        small = cv2.resize(image[..., ::-1], None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        padded = cv2.copyMakeBorder(small, 0, small.shape[0] // 2, 0, 0, cv2.BORDER_CONSTANT, value=(128, 128, 128))
        rects, weights = self.hog.detectMultiScale(padded, winStride=(4, 4), padding=(16, 16), scale=1.03)
        if len(rects) == 0:
            return Detections.empty()
        rects = np.asarray(rects, np.float32).reshape(-1, 4) / scale
        boxes = np.concatenate([rects[:, :2], rects[:, :2] + rects[:, 2:]], axis=1)
        boxes = np.clip(boxes, 0, [width, height, width, height]).astype(np.float32)
        scores = (1 / (1 + np.exp(-np.asarray(weights, np.float32).reshape(-1)))).astype(np.float32)
        keep = batched_nms(torch.from_numpy(boxes), torch.from_numpy(scores), torch.zeros(len(boxes)), self.iou).numpy()
        labels = np.zeros(len(keep), np.int64)
        return _filter(Detections(boxes[keep], scores[keep], labels, np.ones_like(labels)), self.conf, None)


def cached_ultralytics_weights(name: str = 'yolo11n.pt') -> Path | None:
    """``name`` in the working directory or Ultralytics' weights folder, without downloading; ``None`` if absent."""
    candidates = [Path.cwd() / name]
    try:
        from ultralytics.utils import SETTINGS
        candidates.append(Path(SETTINGS['weights_dir']) / name)
    except ImportError:
        return None
    return next((path for path in candidates if path.is_file()), None)


def valid_boxes(boxes: np.ndarray, height: int, width: int) -> np.ndarray:
    """Which boxes [N, 4] (x1, y1, x2, y2 pixels) RHIS can segment: finite, and with some area inside the image
    once clipped to it (x2 > x1 and y2 > y1)."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    finite = np.isfinite(boxes).all(axis=1)
    clipped = np.clip(np.nan_to_num(boxes), 0, [width, height, width, height])
    return finite & (clipped[:, 2] > clipped[:, 0]) & (clipped[:, 3] > clipped[:, 1])


class CheckedDetector:
    """A detector as RHIS consumes it: boxes RHIS can segment only (:func:`valid_boxes`: NaN / inf, reversed boxes
    and boxes with no area inside the image are dropped, not segmented, not counted as masks, and counted in
    ``dropped``; the first drop warns once), then at most ``max_det`` persons per image, best first, as
    Ultralytics' ``max_det`` (a low ``conf`` on a weak detector cannot flood RHIS with thousands of ROIs).
    :func:`load_detector` wraps every adapter in it; the adapter is ``.detector``."""

    def __init__(self, detector: Any, max_det: int | None = None) -> None:
        if max_det is not None and max_det < 1:
            raise ValueError(f'max_det must be >= 1, got {max_det}')
        self.detector, self.max_det, self.dropped = detector, max_det, 0

    def __call__(self, image: np.ndarray, name: str = '') -> Detections:
        dets = self.detector(image, name)
        keep = valid_boxes(dets.boxes, *image.shape[:2])
        if not keep.all():
            if not self.dropped:
                warnings.warn(f'{name or "an image"}: dropped {int((~keep).sum())} invalid detector box(es) (NaN/inf, '
                              'x2 <= x1, y2 <= y1, or outside the image); the run counts them all', stacklevel=2)
            self.dropped += int((~keep).sum())
            dets = dets.select(keep)
        return dets if self.max_det is None else dets.top(self.max_det)

    def __getattr__(self, item: str) -> Any:       # the adapter's own attributes (label_space, masks, ...)
        if item == 'detector':      # not set yet (copy, unpickling): a plain AttributeError, no recursion
            raise AttributeError(item)
        return getattr(self.detector, item)


def load_detector(spec: str, checkpoint: str | None = None, conf: float = 0.25,
                  classes: Sequence[int] | None = None, device: str = 'cpu', label_space: str = 'coco80',
                  masks: bool = False, max_det: int | None = None):
    """Picks the adapter from the file: ``.pt``/``.yaml`` Ultralytics, ``.onnx`` DETR, raw YOLOX or Ultralytics format,
    ``.py`` mmdet config (with ``checkpoint``), ``.json`` detections (``checkpoint`` = optional COCO ann file),
    ``hog`` OpenCV's HOG people detector (no file). ``masks``: the detector's own instance masks too (an
    Ultralytics ``.pt`` segmentation model or an mmdet instance segmentation config). ``max_det``: keep at most
    this many persons per image, best first (``None``: all), after dropping the boxes RHIS cannot segment
    (:class:`CheckedDetector`, which wraps the adapter).

    Example:
        >>> detector = load_detector('hog', conf=0.3, max_det=20)
        >>> detector(np.zeros((64, 64, 3), np.uint8), 'blank.jpg').boxes.shape
        (0, 4)
    """
    return CheckedDetector(_load_adapter(spec, checkpoint, conf, classes, device, label_space, masks), max_det)


def _load_adapter(spec: str, checkpoint: str | None, conf: float, classes: Sequence[int] | None, device: str,
                  label_space: str, masks: bool):
    path = Path(spec)
    suffix = path.suffix.lower()
    if masks:
        if suffix in ('.pt', '.yaml', '.yml'):
            return UltralyticsDetector(spec, conf=conf, classes=classes, device=device, masks=True)
        if suffix == '.py':
            return MMDetDetector(spec, checkpoint, conf=conf, classes=(0,) if classes is None else classes,
                                 device=device, masks=True)
        raise ValueError(f'own masks of {spec!r}: only Ultralytics segmentation models (.pt) and mmdet instance '
                         'segmentation configs (.py) give them')
    if spec == 'hog':
        return HOGPeopleDetector(conf=conf)
    if suffix in ('.pt', '.yaml', '.yml'):
        return UltralyticsDetector(spec, conf=conf, classes=classes, device=device)
    if suffix == '.onnx':
        session = onnx_session(path, what='detector ONNX')
        names = {i.name for i in session.get_inputs()}
        if 'orig_target_sizes' in names:
            return OnnxDetrDetector(path, conf=conf, classes=classes, label_space=label_space)
        if yolox_layout(session) is not None:
            return OnnxYoloxDetector(path, conf=conf, classes=classes)
        # Ultralytics exports (raw heads, nms=True, NMS-free): Ultralytics' own AutoBackend, as `yolo predict` runs them.
        require('ultralytics', extra='ultralytics', feature=f'the Ultralytics ONNX detector {path.name}')
        return UltralyticsDetector(path, conf=conf, classes=classes, device=device)
    if suffix == '.py':
        return MMDetDetector(spec, checkpoint, conf=conf, classes=(0,) if classes is None else classes, device=device)
    if suffix == '.json':
        return JsonDetections(spec, checkpoint, conf=conf, classes=(1,) if classes is None else classes)
    raise ValueError(f'cannot tell what detector {spec!r} is: give a .pt/.yaml (Ultralytics), .onnx (DETR, YOLOX or '
                     "Ultralytics export), .py (mmdet config, with --detector-checkpoint), .json (COCO detections) or 'hog'")
