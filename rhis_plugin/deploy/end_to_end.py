"""One ONNX file for detector + RHIS: the frame goes in; boxes, scores, labels and ROI masks come out.

    frame [1, 3, H, W] RGB in [0, 1]
      -> the detector's input, made in the graph: a centred letterbox with grey 114 padding (Ultralytics) or a
         resize plus ``orig_target_sizes`` (RT-DETR / D-FINE / DEIM)                       (graph ``pre/``)
      -> the detector graph, unchanged                                                     (graph ``det/``)
      -> boxes mapped back to frame pixels and clipped, kept where score >= conf and the label is a person class,
         RHIS on the frame (people-seg UNet at its working size)                          (graph ``rhis/``)
    outputs  boxes [N, 4] frame pixels, scores [N], labels [N], roi_masks [N, mh, mw] target probability,
             binary_masks [1, 1, h', w'] person probability at the working size

The three graphs are joined with ``onnx.compose`` (names prefixed, opset and IR versions aligned). Detector graphs:
Ultralytics exports with ``nms=True`` (one output [1, K, 6]: x1, y1, x2, y2, score, class in input pixels) and the
DETR-family contract (inputs ``images``, ``orig_target_sizes``; outputs ``labels``, ``boxes``, ``scores``).
:class:`OnnxEndToEnd` runs the file and pastes the masks with the same paste-back as every other path.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..models.weights_origin import ORIGIN_KEY, model_origin_record
from .._optional import require
from ..data.images import rgb_to_tensor
from ..models.rhis import RHIS
from ..models.rois import image_size_of, size_tensor
from ..postprocess import RoIMasks
from ..version import __version__
from .export import ANTIALIAS_OPSET, register_antialias_symbolic
from .onnx_session import onnx_session, read_metadata, write_metadata

__all__ = ['DETECTOR_FORMATS', 'DetectorInput', 'DetectionsToMasks', 'detector_format', 'export_end_to_end',
           'EndToEndResult', 'OnnxEndToEnd']

DETECTOR_FORMATS = ('ultralytics', 'detr')
LETTERBOX_GREY = 114 / 255
TORCH_MAX_OPSET = 20            # the TorchScript exporter's newest opset


def detector_format(graph: Any) -> str:
    """``'ultralytics'`` (an ``nms=True`` export) or ``'detr'`` for an ONNX detector graph; ValueError otherwise."""
    inputs = [i.name for i in graph.graph.input]
    outputs = {o.name: o for o in graph.graph.output}
    if set(inputs) == {'images', 'orig_target_sizes'} and {'labels', 'boxes', 'scores'} <= set(outputs):
        return 'detr'
    if len(inputs) == 1 and len(outputs) == 1:
        dims = next(iter(outputs.values())).type.tensor_type.shape.dim
        if len(dims) == 3 and dims[2].dim_value == 6:
            return 'ultralytics'
        raise ValueError('the detector has one output, but not [1, K, 6] boxes: export Ultralytics models with '
                         'nms=True (yolo export format=onnx nms=True)')
    raise ValueError(f'unknown detector graph (inputs {inputs}, outputs {sorted(outputs)}): expected an Ultralytics '
                     'export with nms=True or the DETR contract (images, orig_target_sizes -> labels, boxes, scores)')


def _input_size(graph: Any, override: tuple[int, int] | None) -> tuple[int, int]:
    dims = graph.graph.input[0].type.tensor_type.shape.dim
    static = [d.dim_value for d in dims[2:]] if len(dims) == 4 else []
    if override is not None:
        return int(override[0]), int(override[1])
    if len(static) == 2 and all(v > 0 for v in static):
        return static[0], static[1]
    raise ValueError('the detector graph has a dynamic input size: give detector_size=(H, W)')


def _letterbox(height: Any, width: Any, size: tuple[int, int]) -> tuple[Any, Any, Any, Any, Any]:
    """Ultralytics' centred letterbox of an H x W frame into ``size``: gain, resized (h, w), pad (left, top)."""
    h, w = size_tensor(height), size_tensor(width)
    gain = torch.minimum(size[0] / h, size[1] / w)
    new_h, new_w = torch.round(h * gain).long(), torch.round(w * gain).long()
    left = torch.round((size[1] - new_w.float()) / 2 - 0.1).long()
    top = torch.round((size[0] - new_h.float()) / 2 - 0.1).long()
    return gain, new_h, new_w, left, top


class DetectorInput(nn.Module):
    """Frame [1, 3, H, W] -> (the detector's input, the frame[, orig_target_sizes]) as the detector expects it."""

    def __init__(self, kind: str, size: tuple[int, int]) -> None:
        super().__init__()
        if kind not in DETECTOR_FORMATS:
            raise ValueError(f'detector format must be one of {DETECTOR_FORMATS}, got {kind!r}')
        self.kind, self.size = kind, (int(size[0]), int(size[1]))

    def forward(self, frame: torch.Tensor) -> tuple[torch.Tensor, ...]:
        height, width = image_size_of(frame)
        if self.kind == 'detr':
            resized = F.interpolate(frame, size=self.size, mode='bilinear', align_corners=False)
            sizes = torch.stack([size_tensor(width), size_tensor(height)]).long().view(1, 2)
            return resized, frame + 0, sizes
        _, new_h, new_w, left, top = _letterbox(height, width, self.size)
        resized = F.interpolate(frame, size=(new_h, new_w), mode='bilinear', align_corners=False)
        padded = F.pad(resized - LETTERBOX_GREY, (left, self.size[1] - new_w - left, top, self.size[0] - new_h - top))
        return padded + LETTERBOX_GREY, frame + 0


class DetectionsToMasks(nn.Module):
    """(frame, detector outputs) -> boxes, scores, labels, ROI target probabilities and the person map.

    Keeps detections with ``score >= conf`` and a label in ``classes``; boxes go back to frame pixels, clipped.
    """

    def __init__(self, rhis: RHIS, kind: str, size: tuple[int, int], conf: float, classes: Sequence[int]) -> None:
        super().__init__()
        self.rhis, self.kind, self.size, self.conf = rhis.eval(), kind, (int(size[0]), int(size[1])), float(conf)
        self.register_buffer('classes', torch.tensor(list(classes), dtype=torch.int64), persistent=False)

    def forward(self, frame: torch.Tensor, *detections: torch.Tensor) -> tuple[torch.Tensor, ...]:
        height, width = image_size_of(frame)
        frame_size = torch.stack([size_tensor(width), size_tensor(height)])
        if self.kind == 'detr':
            labels, boxes, scores = detections[0][0].long(), detections[1][0].float(), detections[2][0].float()
        else:
            out = detections[0][0].float()
            gain, _, _, left, top = _letterbox(height, width, self.size)
            pad = torch.stack([left, top, left, top]).float()
            boxes, scores, labels = (out[:, :4] - pad) / gain, out[:, 4], out[:, 5].round().long()
        boxes = torch.minimum(boxes.clamp(min=0), frame_size.repeat(2))
        keep = (scores >= self.conf) & (labels[:, None] == self.classes[None, :]).any(dim=1)
        index = torch.nonzero(keep)[:, 0]
        boxes, scores, labels = boxes[index], scores[index], labels[index]
        rois = torch.cat([torch.zeros_like(boxes[:, :1]), boxes / frame_size.repeat(2)], dim=1)
        out = self.rhis(frame, rois)
        return boxes, scores, labels, torch.softmax(out['masks'], dim=1)[:, 1], out['binary_masks']


def _opset(model: Any) -> int:
    """The model's default-domain (ai.onnx) opset."""
    return next(o.version for o in model.opset_import if o.domain in ('', 'ai.onnx'))


def _align(model: Any, opset: int, ir_version: int) -> Any:
    onnx = require('onnx', extra='onnx', feature='ONNX export')
    if _opset(model) != opset:
        model = onnx.version_converter.convert_version(model, opset)
    model.ir_version = ir_version
    return model


def _torch_graph(module: nn.Module, args: tuple, path: Path, inputs: list[str], outputs: list[str],
                 dynamic: dict[str, dict[int, str]], opset: int) -> Any:
    onnx = require('onnx', extra='onnx', feature='ONNX export')
    with torch.no_grad():
        torch.onnx.export(module, args, str(path), input_names=inputs, output_names=outputs, dynamic_axes=dynamic,
                          opset_version=opset, do_constant_folding=True, dynamo=False)
    return onnx.load(str(path))


def export_end_to_end(rhis: RHIS, detector: str | Path, path: str | Path, conf: float = 0.25,
                      classes: Sequence[int] = (0,), detector_size: tuple[int, int] | None = None,
                      frame_size: tuple[int, int] | None = None) -> Path:
    """Merges an ONNX detector and an RHIS model into one ONNX file (plus ``<path>.json``).

    Args:
        rhis: the RHIS model.
        detector: an Ultralytics ONNX export made with ``nms=True``, or an RT-DETR / D-FINE / DEIM export.
        path: where to write the merged ``.onnx`` file.
        conf: detections below this score get no mask and are dropped.
        classes: detector labels that are people (default: 0, COCO's person in 0-based label spaces).
        detector_size: (H, W) of the detector's input when its graph does not fix it.
        frame_size: (H, W) of a fixed-size ``frame`` input; ``None`` (default): any frame size.

    Returns:
        The path of the merged file; :class:`OnnxEndToEnd` runs it.

    Example:
        >>> from rhis_plugin.models import build_rhis
        >>> path = export_end_to_end(build_rhis(aux_heads=False), 'yolo11n.onnx', 'yolo11n_rhis.onnx', conf=0.25)
        >>> OnnxEndToEnd(path).detector_format
        'ultralytics'
    """
    onnx = require('onnx', extra='onnx', feature='ONNX export')
    detector, path = Path(detector), Path(path)
    if not detector.is_file():
        raise FileNotFoundError(f'detector ONNX not found: {detector}')
    det = onnx.load(str(detector))
    kind = detector_format(det)
    size = _input_size(det, detector_size)
    opset = max(_opset(det), ANTIALIAS_OPSET)
    register_antialias_symbolic()
    frame = torch.rand(1, 3, *(frame_size or (480, 640)))
    frame_axes = {} if frame_size is not None else {2: 'height', 3: 'width'}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        pre_outputs = ['det_images', 'frame_out'] + (['orig_target_sizes'] if kind == 'detr' else [])
        pre = _torch_graph(DetectorInput(kind, size).eval(), (frame,), tmp / 'pre.onnx', ['frame'], pre_outputs,
                           {'frame': frame_axes, 'frame_out': frame_axes}, min(opset, TORCH_MAX_OPSET))
        det_names = [o.name for o in det.graph.output]
        if kind == 'detr':
            det_names = ['labels', 'boxes', 'scores']
            example = (torch.zeros(1, 300, dtype=torch.int64), torch.rand(1, 300, 4) * 100, torch.rand(1, 300))
        else:
            example = (torch.cat([torch.rand(1, 300, 4) * 100, torch.rand(1, 300, 1), torch.zeros(1, 300, 1)], -1),)
        post_inputs = ['frame'] + [f'detector_{name}' for name in det_names]
        outputs = ['boxes', 'scores', 'labels', 'roi_masks', 'binary_masks']
        dynamic = {'frame': frame_axes, 'boxes': {0: 'num_persons'}, 'scores': {0: 'num_persons'},
                   'labels': {0: 'num_persons'}, 'roi_masks': {0: 'num_persons'},
                   'binary_masks': {2: 'working_height', 3: 'working_width'},
                   **{f'detector_{name}': {1: 'num_detections'} for name in det_names}}
        post = _torch_graph(DetectionsToMasks(rhis, kind, size, conf, classes), (frame, *example), tmp / 'post.onnx',
                            post_inputs, outputs, dynamic, min(opset, TORCH_MAX_OPSET))
    ir_version = max(m.ir_version for m in (pre, det, post))
    pre, det, post = (_align(m, opset, ir_version) for m in (pre, det, post))
    pre = onnx.compose.add_prefix(pre, 'pre/', rename_inputs=False)
    det = onnx.compose.add_prefix(det, 'det/')
    post = onnx.compose.add_prefix(post, 'rhis/', rename_outputs=False)
    det_inputs = [('pre/det_images', f'det/{det.graph.input[0].name[4:]}' if kind == 'ultralytics' else 'det/images')]
    if kind == 'detr':
        det_inputs.append(('pre/orig_target_sizes', 'det/orig_target_sizes'))
    merged = onnx.compose.merge_models(pre, det, io_map=det_inputs)
    links = [('pre/frame_out', 'rhis/frame')] + [(f'det/{name}', f'rhis/detector_{name}') for name in det_names]
    merged = onnx.compose.merge_models(merged, post, io_map=links, outputs=outputs)
    onnx.checker.check_model(merged)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(merged, str(path))
    cfg = rhis.cfg
    sidecar = {'format': 'rhis-end-to-end-onnx', 'rhis_plugin_version': __version__, 'opset': opset,
               'detector': detector.name, 'detector_format': kind, 'detector_size': list(size), 'conf': conf,
               'classes': list(classes), 'frame_size': None if frame_size is None else list(frame_size),
               'working_size': cfg.working_size, 'config': cfg.to_dict(), 'mask_size': list(cfg.mask_size),
               ORIGIN_KEY: model_origin_record(rhis),
               'inputs': {'frame': 'float32 [1,3,H,W] RGB in [0,1]'},
               'outputs': {'boxes': 'float32 [N,4] x1,y1,x2,y2 frame pixels', 'scores': 'float32 [N]',
                           'labels': "int64 [N] the detector's labels",
                           'roi_masks': 'float32 [N,mh,mw] target-person probability in each box',
                           'binary_masks': 'float32 [1,1,h,w] person probability at the working size'}}
    return write_metadata(path, sidecar)


@dataclass
class EndToEndResult:
    """One frame's output of :class:`OnnxEndToEnd`: detections and their masks before paste-back."""
    boxes: np.ndarray
    scores: np.ndarray
    labels: np.ndarray
    roi_masks: RoIMasks


class OnnxEndToEnd:
    """Runs a merged detector + RHIS file: an RGB frame in, detections with :class:`RoIMasks` out.

    Args:
        path: the file :func:`export_end_to_end` wrote.
        providers: onnxruntime execution providers (default: TensorRT, CUDA, then CPU, whichever exist).
        num_threads: intra-op threads for the CPU provider.

    Example:
        >>> model = OnnxEndToEnd('yolo11n_rhis.onnx')
        >>> result = model(image)                       # RGB uint8 (H, W, 3)
        >>> masks = result.roi_masks.paste().masks      # bool [N, H, W], exclusive by score
    """

    def __init__(self, path: str | Path, providers: Sequence[str] | None = None,
                 num_threads: int | None = None) -> None:
        path = Path(path)
        self.session = onnx_session(path, providers, num_threads)
        inputs = [i.name for i in self.session.get_inputs()]
        self.outputs = [o.name for o in self.session.get_outputs()]
        if inputs != ['frame'] or not {'boxes', 'scores', 'labels', 'roi_masks'} <= set(self.outputs):
            raise ValueError(f'{path} is not a merged detector + RHIS file (input frame; outputs boxes, scores, '
                             f'labels, roi_masks): inputs {inputs}, outputs {self.outputs}')
        self.metadata = read_metadata(self.session, path)
        self.detector_format = self.metadata.get('detector_format')
        shape = self.session.get_inputs()[0].shape
        self.frame_size = (shape[2], shape[3]) if all(isinstance(v, int) for v in shape[2:]) else None

    def run(self, frame: np.ndarray) -> dict[str, np.ndarray]:
        """Raw outputs for a frame [1, 3, H, W] float32 RGB in [0, 1]."""
        return dict(zip(self.outputs, self.session.run(None, {'frame': np.ascontiguousarray(frame, np.float32)})))

    def __call__(self, image: np.ndarray) -> EndToEndResult:
        """Detections and ROI masks for one RGB uint8 image (H, W, 3)."""
        image = np.asarray(image)
        if image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f'image must be an RGB array (H, W, 3), got shape {image.shape}')
        if self.frame_size is not None and tuple(image.shape[:2]) != tuple(self.frame_size):
            raise ValueError(f'this file takes {self.frame_size[0]}x{self.frame_size[1]} frames, got '
                             f'{image.shape[0]}x{image.shape[1]} (export it without frame_size for any size)')
        out = self.run(rgb_to_tensor(image)[None].numpy())
        boxes, scores = out['boxes'].astype(np.float32), out['scores'].astype(np.float32)
        roi = RoIMasks(torch.from_numpy(out['roi_masks']), torch.from_numpy(boxes), tuple(image.shape[:2]),
                       torch.from_numpy(scores))
        return EndToEndResult(boxes, scores, out['labels'].astype(np.int64), roi)
