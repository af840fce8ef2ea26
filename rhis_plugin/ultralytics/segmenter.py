"""RHISSegmenter: masks for the person boxes of Ultralytics ``Results``, and ``add_rhis`` to attach it."""
from __future__ import annotations

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
from ..postprocess import PostprocessConfig, paste_masks

__all__ = ['RHISSegmenter', 'SegmenterOptions', 'add_rhis', 'person_class_ids']


def person_class_ids(names: dict[int, str] | Sequence[str]) -> list[int] | None:
    """Ids of classes named ``person``; ``None`` (meaning every class) when the model has none."""
    items = names.items() if isinstance(names, dict) else enumerate(names)
    ids = [int(i) for i, name in items if str(name).lower() == 'person']
    return ids or None


@dataclass
class SegmenterOptions:
    """What gets a mask and how it is post-processed.

    Args:
        classes: class ids that get RHIS masks (``None``: every class); other boxes get empty masks.
        conf: boxes below this confidence get empty masks (they stay in the results).
        binary: instead of instance masks, each box gets the people-seg UNet's person mask inside it.
        threshold, dilation, smoothing, smooth_radius, exclusive: as in
            :class:`~rhis_plugin.postprocess.PostprocessConfig`.
    """
    classes: list[int] | None = None
    conf: float = 0.0
    binary: bool = False
    threshold: float = 0.5
    dilation: int = 0
    smoothing: str | None = None
    smooth_radius: int = 4
    exclusive: bool = True
    postprocess: PostprocessConfig = field(init=False)

    def __post_init__(self) -> None:
        self.postprocess = PostprocessConfig(threshold=self.threshold, dilation=self.dilation,
                                             smoothing=self.smoothing, smooth_radius=self.smooth_radius,
                                             exclusive=self.exclusive)


class RHISSegmenter:
    """Runs RHIS on the boxes of a batch of Ultralytics ``Results`` and attaches the masks in place."""

    def __init__(self, model: RHIS, options: SegmenterOptions = SegmenterOptions()) -> None:
        self.model = model.eval()
        self.options = options

    def _wanted(self, cls: torch.Tensor, conf: torch.Tensor) -> torch.Tensor:
        keep = conf >= self.options.conf
        if self.options.classes is not None:
            keep &= torch.isin(cls.long(), torch.tensor(self.options.classes, device=cls.device))
        return keep

    @torch.no_grad()
    def __call__(self, results: list) -> None:
        """Calls ``result.update(masks=...)`` on every result: [N, H, W] masks at the original size, box order."""
        results = [r for r in results if r.boxes is not None]
        if not results:
            return
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
        start = 0
        for index, (result, keep) in enumerate(zip(results, wanted)):
            img_h, img_w = images[index].shape[:2]
            count = int(keep.sum())
            image_rois = rois[start:start + count]
            masks = torch.zeros((len(result.boxes), img_h, img_w), dtype=torch.float32, device=device)
            if count:
                if self.options.binary:
                    person = outputs['binary_masks'][index, 0, :img_h, :img_w] > self.options.threshold
                    pixel_boxes = rois_to_pixels(image_rois, height, width)[:, 1:]
                    masks[keep] = torch.stack([_inside_box(person, box) for box in pixel_boxes]).float()
                else:
                    guide = batch[index, :, :img_h, :img_w] if self.options.smoothing == 'guided' else None
                    pasted = paste_masks(probs[start:start + count], rois_to_pixels(image_rois, height, width)[:, 1:],
                                         (img_h, img_w), self.options.postprocess, guide)
                    masks[keep] = pasted.masks.float()
            start += count
            result.update(masks=masks.to(result.boxes.data.device))


def _inside_box(mask: torch.Tensor, box: torch.Tensor) -> torch.Tensor:
    height, width = mask.shape
    xs = torch.arange(width, device=mask.device) + 0.5
    ys = torch.arange(height, device=mask.device) + 0.5
    inside = ((ys >= box[1]) & (ys <= box[3]))[:, None] & ((xs >= box[0]) & (xs <= box[2]))[None, :]
    return mask & inside


def on_predict_postprocess_end(predictor: Any, segmenter: RHISSegmenter) -> None:
    """Ultralytics predictor callback: masks for the batch's results before they are plotted or saved."""
    segmenter.model.to(predictor.device)
    segmenter(predictor.results)


def add_rhis(model: Any, weights: str | Path | None = None, preset: str = 'rhis_b0_64x48',
             classes: Sequence[int] | None = None, **options: Any) -> RHISSegmenter:
    """Attaches RHIS to an Ultralytics ``YOLO``/``RTDETR`` model: its predictions come back with masks.

    Args:
        model: an ``ultralytics.YOLO`` or ``ultralytics.RTDETR`` (any detection model).
        weights: an RHIS checkpoint (``rhis_plugin.models.save_rhis``); ``None`` builds ``preset`` with random
            weights (for tests and smoke runs).
        classes: class ids to segment; ``None``: the class named ``person`` when the model has one, else all.
        **options: :class:`SegmenterOptions` fields (``conf``, ``binary``, ``dilation``, ``smoothing``, ...).

    Returns the segmenter; ``model.predict(...)`` / ``model.track(...)`` results then carry ``masks``.
    """
    rhis = load_rhis(weights, aux_heads=False) if weights else build_rhis(preset, aux_heads=False)
    if classes is None:
        classes = person_class_ids(model.names)
    segmenter = RHISSegmenter(rhis, SegmenterOptions(classes=None if classes is None else list(classes), **options))
    model.add_callback('on_predict_postprocess_end', partial(on_predict_postprocess_end, segmenter=segmenter))
    return segmenter
