"""Mask metrics of detector + RHIS with Ultralytics' own segmentation validator.

:class:`RHISSegmentationValidator` is a ``SegmentationValidator`` whose masks come from RHIS on the detector's boxes
instead of a YOLO-seg model's prototypes; everything else is Ultralytics': ``metrics/mAP50-95(M)`` and friends, the
confusion matrix, PR curves, ``save_json`` / ``save_txt``, callbacks. Fitness is the mask fitness, so a training run
keeps the epoch with the best masks as ``best.pt``.

Which number this is: Ultralytics scores masks in its letterboxed input frame (at a quarter of it, or at full input
resolution with ``save_json`` / ``save_txt``), and RHIS runs on that letterboxed input. COCO mask AP from pycocotools on
original-size images (the ``predictions.json`` of ``save_json``, the mmdet and framework-free evaluations) is another
number: tables say which one they show.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from ultralytics.models.yolo.detect import DetectionValidator
from ultralytics.models.yolo.segment import SegmentationValidator
from ultralytics.utils import ops
from ultralytics.utils.metrics import SegmentMetrics

from ..models import rhis_from_weights
from ..postprocess import PostprocessConfig
from .predict import RHISSegmenter, SegmenterOptions, person_class_ids

__all__ = ['RHISSegmentationValidator', 'RHISMaskMetrics', 'rhis_validator']


class RHISMaskMetrics(SegmentMetrics):
    """Ultralytics' segmentation metrics with the mask fitness alone (the boxes are the detector's business)."""

    @property
    def fitness(self) -> float:
        return self.seg.fitness()


class RHISSegmentationValidator(SegmentationValidator):
    """Validates a detection model with RHIS masks on its boxes.

    During training the head is the validated model's own (``model.rhis``); standalone (``rhis-yolo val``, a
    trainer's final check of ``best.pt``) it is loaded from ``rhis_weights``. The class attributes set what RHIS
    does; :func:`rhis_validator` makes a subclass with them set (``model.val`` takes a class).

    Example:
        >>> from ultralytics import YOLO
        >>> metrics = YOLO('best.pt').val(validator=rhis_validator('weights/rhis.pth'), data='people.yaml')  # doctest: +SKIP
        >>> metrics.seg.map  # mask mAP50-95 in Ultralytics' frame  # doctest: +SKIP
    """

    rhis_weights: str | Path | None = 'starter'
    rhis_allow_random = False
    rhis_peopleseg: str | Path | None = None
    rhis_options = SegmenterOptions()
    # RHIS segments the highest-scoring boxes of each image up to this many (COCO's mask AP counts at most 100 per
    # image): Ultralytics keeps up to max_det=300 boxes down to conf=0.001, and RHIS costs time per box. The rest get
    # empty masks (false positives of the mask metrics, at the bottom of the ranking).
    rhis_max_masks = 100

    def __init__(self, dataloader: Any = None, save_dir: Path | None = None, args: Any = None,
                 _callbacks: dict | None = None) -> None:
        super().__init__(dataloader, save_dir, args, _callbacks)
        self.metrics = RHISMaskMetrics()
        self.segmenter: RHISSegmenter | None = None
        self.inputs: torch.Tensor | None = None

    def init_metrics(self, model: torch.nn.Module) -> None:
        super().init_metrics(model)
        options = self.rhis_options
        if options.classes is None:
            options = SegmenterOptions(**{**vars(options), 'classes': person_class_ids(self.names)})
        head = getattr(model, 'rhis', None) if self.training else None
        if head is None:
            head = rhis_from_weights(self.rhis_weights, allow_random=self.rhis_allow_random, source='rhis-yolo val',
                                     peopleseg=self.rhis_peopleseg, aux_heads=False)
        self.segmenter = RHISSegmenter(head.to(self.device), options)

    def preprocess(self, batch: dict[str, Any]) -> dict[str, Any]:
        batch = super().preprocess(batch)
        self.inputs = batch['img']          # RHIS runs on the letterboxed inputs the boxes refer to
        return batch

    def postprocess(self, preds: Any) -> list[dict[str, torch.Tensor]]:
        """NMS as for detection, then RHIS masks ([N, h, w] uint8, in box order) on every image's boxes."""
        preds = DetectionValidator.postprocess(self, preds)
        height, width = self.inputs.shape[-2:]
        native = self.process is ops.process_mask_native
        size = (height, width) if native else (height // 4, width // 4)
        for image, pred in zip(self.inputs, preds):
            pred.pop('extra', None)
            pred['masks'] = _resized(self._masks(image.float(), pred), size)
        return preds

    @torch.no_grad()
    def _masks(self, image: torch.Tensor, pred: dict[str, torch.Tensor]) -> torch.Tensor:
        """Bool masks [N, H, W] of one input image's boxes (empty for boxes RHIS does not segment)."""
        keep = self.segmenter.wanted(pred['cls'], pred['conf'])
        keep[pred['conf'].argsort(descending=True)[self.rhis_max_masks:]] = False
        masks = torch.zeros((len(pred['bboxes']), *image.shape[-2:]), dtype=torch.bool, device=image.device)
        if keep.any():
            masks[keep] = self.segmenter.segment(image, pred['bboxes'][keep].float(), pred['conf'][keep].float())
        return masks


def _resized(masks: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bool masks -> uint8 masks at ``size`` (bilinear, > 0.5: how Ultralytics resizes its ground truth)."""
    if tuple(masks.shape[-2:]) != tuple(size) and len(masks):
        masks = F.interpolate(masks[None].float(), size, mode='bilinear', align_corners=False)[0] > 0.5
    elif tuple(masks.shape[-2:]) != tuple(size):
        masks = masks.new_zeros((0, *size))
    return masks.to(torch.uint8)


def rhis_validator(weights: str | Path | None = 'starter', peopleseg: str | Path | None = None,
                   allow_random: bool = False, options: SegmenterOptions | None = None,
                   postprocess: PostprocessConfig | None = None) -> type[RHISSegmentationValidator]:
    """The validator class for ``model.val(validator=...)`` with the given RHIS weights and options.

    Args:
        weights: ``'starter'``, an RHIS checkpoint (a training run's ``weights/rhis.pth``) or ``'random'``.
        peopleseg: people-seg UNet weights to put into the head.
        allow_random: accept a checkpoint whose frozen people-seg UNet is random.
        options: which boxes get masks and how (default: the class named ``person``).
        postprocess: shorthand for ``options.postprocess``.

    Returns:
        A :class:`RHISSegmentationValidator` subclass.
    """
    options = options or SegmenterOptions()
    if postprocess is not None:
        options = SegmenterOptions(**{**vars(options), 'postprocess': postprocess})
    return type('RHISSegmentationValidator', (RHISSegmentationValidator,), {
        'rhis_weights': weights, 'rhis_peopleseg': peopleseg, 'rhis_allow_random': allow_random,
        'rhis_options': options})
