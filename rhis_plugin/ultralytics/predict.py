"""RHISSegmenter: masks for the person boxes of Ultralytics ``Results``, and ``add_rhis`` to attach it."""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ..models import build_rhis, load_rhis
from ..models.rhis import RHIS
from ..models.rois import boxes_to_rois, clip_rois, rois_to_pixels
from ..postprocess import PostprocessConfig, paste_batch

__all__ = ['RHISSegmenter', 'SegmenterOptions', 'add_rhis', 'person_class_ids']


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
    """Runs RHIS on the boxes of a batch of Ultralytics ``Results`` and attaches the masks in place."""

    def __init__(self, model: RHIS, options: SegmenterOptions = SegmenterOptions()) -> None:
        self.model = model.eval()
        self.options = options
        self.warned_unsegmented = False

    def _wanted(self, cls: torch.Tensor, conf: torch.Tensor) -> torch.Tensor:
        keep = conf >= self.options.conf
        if self.options.classes is not None:
            keep &= torch.isin(cls.long(), torch.tensor(self.options.classes, device=cls.device))
        return keep

    @torch.no_grad()
    def __call__(self, results: list) -> int:
        """Calls ``result.update(masks=...)`` on every result: [N, H, W] masks at the original size, box order.

        Returns:
            How many boxes were left without a mask (none with ``keep_boxes``).
        """
        results = [r for r in results if r.boxes is not None]
        if not results:
            return 0
        device = next(self.model.parameters()).device
        images = [torch.from_numpy(np.ascontiguousarray(r.orig_img[..., ::-1])).to(device) for r in results]
        height = max(im.shape[0] for im in images)
        width = max(im.shape[1] for im in images)
        # One batch for every ROI of every image: pad to the largest image (top-left aligned, boxes unchanged).
        batch = torch.stack([F.pad(im.permute(2, 0, 1).float() / 255, (0, width - im.shape[1], 0, height - im.shape[0]))
                             for im in images])
        wanted = [self._wanted(r.boxes.cls, r.boxes.conf) for r in results]
        boxes = [r.boxes.xyxy[w].float().to(device) for r, w in zip(results, wanted)]
        rois = clip_rois(boxes_to_rois(boxes, height, width).to(device))
        outputs = self.model(batch, rois)
        probs = torch.softmax(outputs['masks'], dim=1)[:, 1]
        sizes = [tuple(im.shape[:2]) for im in images]
        # Top-left padding leaves pixel coordinates unchanged: crop boxes are each image's own.
        crop_boxes = rois_to_pixels(rois, height, width)[:, 1:].split([int(w.sum()) for w in wanted])
        if self.options.binary:
            person = outputs['binary_masks'][:, 0] > self.options.postprocess.threshold
            pasted = [torch.stack([_inside_box(person[i, :h, :w], box) for box in image_boxes])
                      if len(image_boxes) else None for i, ((h, w), image_boxes) in enumerate(zip(sizes, crop_boxes))]
        else:
            guides = [batch[i, :, :h, :w] for i, (h, w) in enumerate(sizes)]
            scores = [r.boxes.conf[w].float().to(device) for r, w in zip(results, wanted)]
            pasted = [p.masks for p in paste_batch(probs, crop_boxes, sizes, self.options.postprocess, guides,
                                                   scores)]
        unsegmented = 0
        for result, keep, size, image_masks in zip(results, wanted, sizes, pasted):
            masks = torch.zeros((len(result.boxes), *size), dtype=torch.bool, device=device)
            if image_masks is not None and len(image_masks):
                masks[keep] = image_masks
            empty = ~masks.flatten(1).any(dim=1)
            if self.options.keep_boxes and empty.any():
                all_boxes = result.boxes.xyxy.float().to(device)
                canvas = torch.ones(size, dtype=torch.bool, device=device)
                masks[empty] = torch.stack([_inside_box(canvas, box) for box in all_boxes[empty]])
                empty = ~masks.flatten(1).any(dim=1)
            unsegmented += int(empty.sum())
            result.update(masks=masks.float().to(result.boxes.data.device))
        return unsegmented


def _inside_box(mask: torch.Tensor, box: torch.Tensor) -> torch.Tensor:
    height, width = mask.shape
    xs = torch.arange(width, device=mask.device) + 0.5
    ys = torch.arange(height, device=mask.device) + 0.5
    inside = ((ys >= box[1]) & (ys <= box[3]))[:, None] & ((xs >= box[0]) & (xs <= box[2]))[None, :]
    return mask & inside


def on_predict_postprocess_end(predictor: Any, segmenter: RHISSegmenter) -> None:
    """Ultralytics predictor callback: masks for the batch's results before they are plotted or saved."""
    segmenter.model.to(predictor.device)
    unsegmented = segmenter(predictor.results)
    if unsegmented and getattr(predictor.args, 'save_txt', False) and not segmenter.warned_unsegmented:
        segmenter.warned_unsegmented = True
        warnings.warn(f'rhis: {unsegmented} box(es) have no RHIS mask (other classes, below rhis_conf, or an empty '
                      'mask): the label files of save_txt hold only the segmented instances. Keep every box, as its '
                      'rectangle, with keep_boxes=True (rhis-yolo: rhis_keep_boxes=True).', stacklevel=2)


def add_rhis(model: Any, weights: str | Path | None = None, preset: str = 'rhis_b0_64x48',
             classes: Sequence[int] | None = None, conf: float = 0.0, binary: bool = False,
             postprocess: PostprocessConfig | None = None, keep_boxes: bool = False) -> RHISSegmenter:
    """Attaches RHIS to an Ultralytics ``YOLO``/``RTDETR`` model: its predictions come back with masks.

    Args:
        model: an ``ultralytics.YOLO`` or ``ultralytics.RTDETR`` (any detection model).
        weights: an RHIS checkpoint (``rhis_plugin.models.save_rhis``); ``None`` builds ``preset`` with random
            weights (for tests and smoke runs).
        preset: the architecture built when ``weights`` is ``None``.
        classes: class ids to segment; ``None``: the class named ``person`` when the model has one, else all.
        conf: boxes below this confidence get empty masks.
        binary: each box gets the people-seg UNet's person mask inside it instead of an instance mask.
        postprocess: threshold, dilation, smoothing and exclusivity of the masks (default: ``PostprocessConfig()``).
        keep_boxes: boxes without an RHIS mask get their rectangle (see :class:`SegmenterOptions`).

    Returns:
        The :class:`RHISSegmenter`; ``model.predict(...)`` / ``model.track(...)`` results then carry ``masks``
        (one per box, in box order, at the original image size).

    Example:
        >>> from ultralytics import YOLO
        >>> model = YOLO('yolo11n.yaml')
        >>> segmenter = add_rhis(model, preset='rhis_b0_64x48', postprocess=PostprocessConfig(dilation=1))
        >>> segmenter.options.classes   # the model's class named 'person'
        [0]
    """
    rhis = load_rhis(weights, aux_heads=False) if weights else build_rhis(preset, aux_heads=False)
    if classes is None:
        classes = person_class_ids(model.names)
    options = SegmenterOptions(classes=None if classes is None else list(classes), conf=conf, binary=binary,
                               postprocess=postprocess or PostprocessConfig(), keep_boxes=keep_boxes)
    segmenter = RHISSegmenter(rhis, options)
    model.add_callback('on_predict_postprocess_end', partial(on_predict_postprocess_end, segmenter=segmenter))
    return segmenter
