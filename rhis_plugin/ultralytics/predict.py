"""RHISSegmenter: masks for the person boxes of Ultralytics ``Results``, and ``add_rhis`` to attach it."""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ..deploy.runtime import OnnxRHIS
from ..models import rhis_from_weights
from ..models.rhis import RHIS
from ..postprocess import PostprocessConfig, RoIMasks, clip_to_box

__all__ = ['RHISSegmenter', 'SegmenterOptions', 'add_rhis', 'letterbox_geometry', 'person_class_ids']


def person_class_ids(names: dict[int, str] | Sequence[str]) -> list[int] | None:
    """Ids of classes named ``person``; ``None`` (meaning every class) when the model has none."""
    items = names.items() if isinstance(names, dict) else enumerate(names)
    ids = [int(i) for i, name in items if str(name).lower() == 'person']
    return ids or None


@dataclass
class SegmenterOptions:
    """What gets a mask, and how ROI probabilities become image masks.

    Args:
        classes: class ids that get RHIS masks (``None``: every class); other boxes get empty masks.
        conf: boxes below this confidence get empty masks (they stay in the results).
        binary: instead of instance masks, each box gets the people-seg UNet's person mask inside it.
        postprocess: threshold, dilation, smoothing and exclusivity of the pasted masks.
        keep_boxes: boxes without an RHIS mask (other classes, below ``conf``, or an empty mask) get their box
            rectangle as mask, so that ``save_txt`` label files keep every box. Off by default: rectangles in
            YOLO-seg labels would teach a model rectangle masks; then label files hold the segmented instances only
            (Ultralytics drops a box whose mask is empty) and a one-time warning says so.
    """
    classes: list[int] | None = None
    conf: float = 0.0
    binary: bool = False
    postprocess: PostprocessConfig = field(default_factory=PostprocessConfig)
    keep_boxes: bool = False


class RHISSegmenter:
    """Runs RHIS (a PyTorch model, or an RHIS ONNX file through :class:`~rhis_plugin.deploy.OnnxRHIS`) on the boxes
    of a batch of Ultralytics ``Results`` and attaches the masks in place."""

    def __init__(self, model: RHIS | OnnxRHIS, options: SegmenterOptions = SegmenterOptions()) -> None:
        self.model = model
        self.runner = _OnnxRunner(model) if isinstance(model, OnnxRHIS) else _TorchRunner(model.eval())
        self.options = options
        self.warned_unsegmented = False
        self.seconds, self.images = 0.0, 0      # RHIS's share of the predictions so far (``Results.speed['rhis']``)

    def wanted(self, cls: torch.Tensor, conf: torch.Tensor) -> torch.Tensor:
        """Which boxes (by class and confidence) get an RHIS mask."""
        keep = conf >= self.options.conf
        if self.options.classes is not None:
            keep &= torch.isin(cls.long(), torch.tensor(self.options.classes, device=cls.device))
        return keep

    @torch.no_grad()
    def __call__(self, results: list, inputs: torch.Tensor | None = None, retina_masks: bool = True,
                 half: bool = False) -> int:
        """Calls ``result.update(masks=...)`` on every result: bool [N, h, w] masks in box order.

        Args:
            results: Ultralytics ``Results`` with boxes.
            inputs: the predictor's letterboxed input batch [B, 3, h, w] (RGB in [0, 1]).
            retina_masks: masks at the original image size; otherwise (with ``inputs``) in the letterboxed input
                frame, as Ultralytics' own segmentation models give them (what ``Results.plot`` and ``masks.xy``
                expect). Dilation and smoothing radii are pixels of that frame.
            half: run RHIS in float16 (CUDA only; ignored on the CPU).

        Returns:
            How many boxes were left without a mask (none with ``keep_boxes``).
        """
        device = self.runner.device
        autocast = torch.autocast('cuda', dtype=torch.float16, enabled=half and device.type == 'cuda')
        unsegmented = 0
        for index, result in enumerate(results):
            if result.boxes is None:
                continue
            image = torch.from_numpy(np.ascontiguousarray(result.orig_img[..., ::-1])).to(device)
            image = image.permute(2, 0, 1).float() / 255
            keep = self.wanted(result.boxes.cls, result.boxes.conf)
            boxes = result.boxes.xyxy[keep].float().to(device)
            if retina_masks or inputs is None:
                frame, gain, pad, guide = tuple(image.shape[-2:]), 1.0, (0, 0), image
            else:
                frame = tuple(inputs.shape[-2:])
                gain, pad = letterbox_geometry(tuple(image.shape[-2:]), frame)
                guide = inputs[index].float().to(device)
            masks = torch.zeros((len(result.boxes), *frame), dtype=torch.bool, device=device)
            if len(boxes):
                with autocast:
                    masks[keep] = self.segment(image, boxes, result.boxes.conf[keep].float().to(device), frame,
                                               gain, pad, guide)
            empty = ~masks.flatten(1).any(dim=1)
            if self.options.keep_boxes and empty.any():
                all_boxes = _to_frame(result.boxes.xyxy.float().to(device), gain, pad)
                canvas = torch.ones(frame, dtype=torch.bool, device=device)
                masks[empty] = torch.stack([clip_to_box(canvas, box) for box in all_boxes[empty]])
                empty = ~masks.flatten(1).any(dim=1)
            unsegmented += int(empty.sum())
            result.update(masks=masks.to(result.boxes.data.device))
        return unsegmented

    def segment(self, image: torch.Tensor, boxes: torch.Tensor, scores: torch.Tensor,
                frame: tuple[int, int] | None = None, gain: float = 1.0, pad: tuple[int, int] = (0, 0),
                guide: torch.Tensor | None = None) -> torch.Tensor:
        """Bool masks [n, *frame] of one image's boxes.

        Args:
            image: RGB [3, H, W] in [0, 1] that the boxes (pixels) refer to.
            boxes, scores: [n, 4] and [n].
            frame: the output frame (default: the image's size), which ``gain`` and ``pad`` map image pixels to.
            guide: the image in the output frame, for edge smoothing (default: ``image``).

        Returns:
            Bool masks [n, *frame], exclusive by score.
        """
        frame = tuple(image.shape[-2:]) if frame is None else frame
        guide = image if guide is None else guide
        if self.options.binary:
            probs = self.runner.person_probability(image)
            if frame != tuple(image.shape[-2:]):
                probs = _letterbox_map(probs, gain, pad, frame)
            person = probs[0, 0] > self.options.postprocess.threshold
            return torch.stack([clip_to_box(person, box) for box in _to_frame(boxes, gain, pad)])
        roi = self.runner.roi_masks(image, boxes, scores)
        roi.boxes = _to_frame(roi.boxes, gain, pad)
        roi.image_size = frame
        return roi.paste(self.options.postprocess, guide).masks


class _TorchRunner:
    """RHIS in PyTorch: image tensors in, on the model's device."""

    def __init__(self, model: RHIS) -> None:
        self.model = model

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def to(self, device: torch.device | str) -> None:
        self.model.to(device)

    def person_probability(self, image: torch.Tensor) -> torch.Tensor:
        return self.model.person_probability(image[None])

    def roi_masks(self, image: torch.Tensor, boxes: torch.Tensor, scores: torch.Tensor) -> RoIMasks:
        return self.model.predict_rois(image[None], [boxes], [scores])[0]


class _OnnxRunner:
    """An RHIS ONNX file in ONNX Runtime: uint8 arrays in, results on the CPU (ONNX Runtime places the work on its
    providers' devices itself)."""

    device = torch.device('cpu')

    def __init__(self, model: OnnxRHIS) -> None:
        self.model = model

    def to(self, device: torch.device | str) -> None:
        pass

    def person_probability(self, image: torch.Tensor) -> torch.Tensor:
        return self.model.person_probability(_rgb_array(image)).to(image.device)

    def roi_masks(self, image: torch.Tensor, boxes: torch.Tensor, scores: torch.Tensor) -> RoIMasks:
        return self.model.predict_rois([_rgb_array(image)], [boxes.cpu().numpy()], [scores.cpu().numpy()])[0]


def _rgb_array(image: torch.Tensor) -> np.ndarray:
    """RGB [3, H, W] in [0, 1] (from uint8 pixels) -> the uint8 (H, W, 3) array it came from."""
    return (image * 255).round().clamp(0, 255).byte().permute(1, 2, 0).cpu().numpy()


def letterbox_geometry(image_shape: tuple[int, int], input_shape: tuple[int, int]) -> tuple[float, tuple[int, int]]:
    """(gain, (pad_x, pad_y)) of Ultralytics' centred letterbox from an image to the model input, as
    ``ultralytics.utils.ops.scale_boxes`` undoes it: input pixel = image pixel * gain + pad."""
    gain = min(input_shape[0] / image_shape[0], input_shape[1] / image_shape[1])
    pad_x = round((input_shape[1] - image_shape[1] * gain) / 2 - 0.1)
    pad_y = round((input_shape[0] - image_shape[0] * gain) / 2 - 0.1)
    return gain, (pad_x, pad_y)


def _to_frame(boxes: torch.Tensor, gain: float, pad: tuple[int, int]) -> torch.Tensor:
    """Image-pixel boxes [N, 4] -> the output frame's pixels (``letterbox_geometry``'s gain and pad)."""
    return boxes * gain + boxes.new_tensor(pad).repeat(2)


def _letterbox_map(probs: torch.Tensor, gain: float, pad: tuple[int, int], frame: tuple[int, int]) -> torch.Tensor:
    """A map [1, 1, H, W] at the image size -> [1, 1, *frame] in the letterboxed input frame (zeros outside)."""
    height, width = round(probs.shape[-2] * gain), round(probs.shape[-1] * gain)
    resized = F.interpolate(probs.float(), size=(height, width), mode='bilinear', align_corners=False)
    out = probs.new_zeros((1, 1, *frame), dtype=torch.float32)
    h, w = min(height, frame[0] - pad[1]), min(width, frame[1] - pad[0])
    out[..., pad[1]:pad[1] + h, pad[0]:pad[0] + w] = resized[..., :h, :w]
    return out


def on_predict_batch_end(predictor: Any) -> None:
    """Ultralytics predictor callback: ``Results.speed['rhis']``, ms per image of the batch (Ultralytics' own
    ``postprocess`` entry is measured before RHIS runs)."""
    seconds = getattr(predictor, 'rhis_seconds', None)
    if seconds is not None and predictor.results:
        for result in predictor.results:
            result.speed['rhis'] = seconds * 1e3 / len(predictor.results)


def on_predict_end(predictor: Any, segmenter: RHISSegmenter) -> None:
    """Ultralytics predictor callback: with ``verbose``, RHIS's time per image under Ultralytics' speed line."""
    if getattr(predictor.args, 'verbose', False) and segmenter.images:
        from ultralytics.utils import LOGGER
        LOGGER.info(f'RHIS: {segmenter.seconds * 1e3 / segmenter.images:.1f}ms per image (masks for the boxes, '
                    'after postprocess)')
    segmenter.seconds, segmenter.images = 0.0, 0


def on_predict_start(predictor: Any) -> None:
    """Ultralytics predictor callback: keeps each batch's letterboxed input (``predictor.rhis_inputs``), the frame
    of ``retina_masks=False`` masks."""
    original = predictor.preprocess
    if getattr(original, 'keeps_rhis_inputs', False):
        return

    def preprocess(images: Any) -> torch.Tensor:
        predictor.rhis_inputs = original(images)
        return predictor.rhis_inputs

    preprocess.keeps_rhis_inputs = True
    predictor.preprocess = preprocess


def on_predict_postprocess_end(predictor: Any, segmenter: RHISSegmenter) -> None:
    """Ultralytics predictor callback: masks for the batch's results before they are plotted or saved (after the
    tracker's boxes, when tracking). Its time is RHIS's entry of ``Results.speed``."""
    segmenter.runner.to(predictor.device)
    args = predictor.args
    start = time.perf_counter()
    unsegmented = segmenter(predictor.results, getattr(predictor, 'rhis_inputs', None),
                            retina_masks=bool(getattr(args, 'retina_masks', False)), half=bool(getattr(args, 'half', False)))
    if torch.cuda.is_available() and str(predictor.device).startswith('cuda'):
        torch.cuda.synchronize()
    predictor.rhis_seconds = time.perf_counter() - start
    segmenter.seconds += predictor.rhis_seconds
    segmenter.images += len(predictor.results)
    if unsegmented and getattr(args, 'save_txt', False) and not segmenter.warned_unsegmented:
        segmenter.warned_unsegmented = True
        warnings.warn(f'rhis: {unsegmented} box(es) have no RHIS mask (other classes, below rhis_conf, or an empty '
                      'mask): the label files of save_txt hold only the segmented instances. Keep every box, as its '
                      'rectangle, with keep_boxes=True (rhis-yolo: rhis_keep_boxes=True).', stacklevel=2)


def add_rhis(model: Any, weights: str | Path = 'starter', preset: str | None = None,
             classes: Sequence[int] | None = None, conf: float = 0.0, binary: bool = False,
             postprocess: PostprocessConfig | None = None, keep_boxes: bool = False,
             peopleseg: str | Path | None = None, allow_random: bool = False) -> RHISSegmenter:
    """Attaches RHIS to an Ultralytics ``YOLO``/``RTDETR`` model: its predictions come back with masks.

    Args:
        model: an ``ultralytics.YOLO`` or ``ultralytics.RTDETR`` (any detection model).
        weights: ``'starter'`` (the bundled starter model), an RHIS checkpoint (``save_rhis``, a joint run's
            ``rhis.pth`` or an mmdet RHIS checkpoint), an RHIS ONNX file (``rhis export``; run by ONNX Runtime, as
            ``rhis predict`` runs it), or ``'random'``: ``preset`` with random weights, on purpose.
        preset: the architecture built for ``weights='random'``.
        classes: class ids to segment; ``None``: the class named ``person`` when the model has one, else all.
        conf: boxes below this confidence get empty masks.
        binary: each box gets the people-seg UNet's person mask inside it instead of an instance mask.
        postprocess: threshold, dilation, smoothing and exclusivity of the masks (default: ``PostprocessConfig()``).
        keep_boxes: boxes without an RHIS mask get their rectangle (see :class:`SegmenterOptions`).
        peopleseg: people-seg UNet weights to put into the model (a stage-1 checkpoint or ``'starter'``).
        allow_random: accept a model whose frozen people-seg UNet is random (otherwise ``RandomWeightsError``).

    Returns:
        The :class:`RHISSegmenter`; ``model.predict(...)`` / ``model.track(...)`` results then carry bool ``masks``
        (one per box, in box order): in the letterboxed input frame like a YOLO-seg model's, or at the original
        image size with ``retina_masks=True``; ``half=True`` runs RHIS in float16 on CUDA.

    Example:
        >>> from ultralytics import YOLO
        >>> model = YOLO('yolo11n.yaml')
        >>> segmenter = add_rhis(model, postprocess=PostprocessConfig(dilation=1))    # the starter model
        >>> segmenter.options.classes   # the model's class named 'person'
        [0]
    """
    if str(weights).lower().endswith('.onnx'):
        if preset is not None or peopleseg is not None:
            raise ValueError('add_rhis: an ONNX file is a whole exported model; preset and peopleseg apply to '
                             'PyTorch weights only')
        from ..deploy.pipeline import RHISBackend
        rhis = RHISBackend(weights, allow_random=allow_random).onnx     # refuses a random UNet as rhis predict does
    else:
        rhis = rhis_from_weights(weights, preset, allow_random, 'add_rhis', peopleseg=peopleseg, aux_heads=False)
    if classes is None:
        classes = person_class_ids(model.names)
    options = SegmenterOptions(classes=None if classes is None else list(classes), conf=conf, binary=binary,
                               postprocess=postprocess or PostprocessConfig(), keep_boxes=keep_boxes)
    segmenter = RHISSegmenter(rhis, options)
    for event, callback in (('on_predict_start', on_predict_start),
                            ('on_predict_postprocess_end', partial(on_predict_postprocess_end, segmenter=segmenter)),
                            ('on_predict_batch_end', on_predict_batch_end),
                            ('on_predict_end', partial(on_predict_end, segmenter=segmenter))):
        # A second add_rhis replaces the first instead of segmenting every box twice.
        model.callbacks[event] = [c for c in model.callbacks.get(event, []) if not getattr(c, 'rhis_callback', False)]
        callback = callback if isinstance(callback, partial) else partial(callback)
        callback.rhis_callback = True
        model.add_callback(event, callback)
    return segmenter
