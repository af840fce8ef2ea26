"""RHISDetector: any mmdet detector supplies person boxes, the RHIS RoIHead turns them into masks.

Modes:
    joint     detector and head losses are summed; both train.
    frozen    the detector loads ``detector_checkpoint``, takes no gradient and stays in eval mode; only the
              head trains (on jittered GT boxes and, with ``train_rois='both'``, on the detector's own boxes).
    gt_boxes  no detector: the head trains and predicts on GT boxes (oracle-box mask AP).
"""
from __future__ import annotations

import copy
import warnings

import torch
from mmdet.models.detectors import BaseDetector
from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmdet.utils import InstanceList
from mmengine.runner.checkpoint import load_checkpoint
from mmengine.structures import InstanceData

from rhis_plugin.models.rois import boxes_to_rois
from ..utils.images import images_rgb01

__all__ = ['RHISDetector', 'UntrainedDetectorWarning', 'warn_untrained_detector']

MODES = ('joint', 'frozen', 'gt_boxes')


class UntrainedDetectorWarning(UserWarning):
    """A detector predicts with weights it never loaded nor trained: its boxes, and so the masks, are random."""


def warn_untrained_detector(model: torch.nn.Module) -> None:
    """Warns once per model when its detector predicts with the weights it was built with (no checkpoint loaded,
    no training step taken in this process), as the RHIS side does for a UNet it never loaded."""
    if model.detector_loaded or model.detector_trained or getattr(model, '_warned_untrained', False):
        return
    model._warned_untrained = True
    warnings.warn(f'{type(model).__name__}: the detector predicts with weights it never loaded nor trained, so its '
                  'boxes (and the masks on them) are random: load a trained checkpoint (mim test --checkpoint, '
                  "DetInferencer(weights=...), load_from), set model.detector_checkpoint, or train first",
                  UntrainedDetectorWarning, stacklevel=3)


@MODELS.register_module()
class RHISDetector(BaseDetector):
    """Any mmdet detector plus the RHIS head, trained jointly, with the detector frozen, or on GT boxes alone.

    Args:
        roi_head: an :class:`~rhis_plugin.mmdet.models.roi_heads.RHISRoIHead` config.
        detector: any mmdet detector config (without its own ``data_preprocessor``: this wrapper owns one).
        mode: ``'joint'``, ``'frozen'`` or ``'gt_boxes'`` (the oracle-box protocol: GT boxes, all of equal box
            score, so exclusive masks resolve overlaps by mask probability, and COCO ranks each mask by its mean
            probability, as ``rhis demo`` and ``tools/bench_quality.py`` do).
        detector_checkpoint: weights for the detector. ``frozen`` mode trains only with the detector's weights
            from here or from a checkpoint of the whole model (``load_from``, ``resume``); inference from a trained
            checkpoint (``init_detector``, ``DetInferencer``, ``mim test``) needs no separate detector file.
        train_rois: ``'gt'`` (jittered GT boxes) or ``'both'`` (also the detector's boxes matched to GT).
        score_thr: detections below it are dropped before the head (speed; also drops them from the results).
        backbone: leave empty (``dict()``): mmdet's ``init_detector`` reads ``model.backbone`` of every config, so
            RHIS configs carry an empty one; the detector's own backbone sits inside ``detector``.
    """

    def __init__(self, roi_head: dict, detector: dict | None = None, mode: str = 'joint',
                 detector_checkpoint: str | None = None, train_rois: str = 'gt', score_thr: float = 0.0,
                 data_preprocessor: dict | None = None, init_cfg: dict | None = None,
                 backbone: dict | None = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if backbone:
            raise ValueError('RHISDetector takes no backbone: put the detector (with its backbone) in detector=...')
        if mode not in MODES:
            raise ValueError(f'mode must be one of {MODES}, got {mode!r}')
        if train_rois not in ('gt', 'both'):
            raise ValueError(f"train_rois must be 'gt' or 'both', got {train_rois!r}")
        if (mode == 'gt_boxes') != (detector is None):
            raise ValueError("mode='gt_boxes' takes no detector; 'joint' and 'frozen' need one")
        self.mode = mode
        self.train_rois = train_rois
        self.score_thr = score_thr
        self.detector_checkpoint = detector_checkpoint
        self.detector = MODELS.build(detector) if detector is not None else None
        self.roi_head = MODELS.build(roi_head)
        self.detector_loaded = False     # set when the detector's weights come from a file (see _note_loaded)
        self.detector_trained = False    # set by a joint training step
        if self.detector is not None:
            self.register_load_state_dict_post_hook(RHISDetector._note_loaded)
        if mode == 'frozen':
            self.detector.requires_grad_(False)

    @staticmethod
    def _note_loaded(module: 'RHISDetector', incompatible_keys) -> None:
        """A whole-model checkpoint that holds the detector (every detector key present) loads it."""
        if not any(k.startswith('detector.') for k in incompatible_keys.missing_keys):
            module.detector_loaded = True

    def init_weights(self) -> None:
        super().init_weights()
        # After the generic init, or it would overwrite the loaded detector.
        if self.detector_checkpoint:
            load_checkpoint(self.detector, self.detector_checkpoint, map_location='cpu', strict=True)
            self.detector_loaded = True

    def train(self, mode: bool = True) -> 'RHISDetector':
        super().train(mode)
        if self.mode == 'frozen':
            self.detector.eval()
        return self

    def images_rgb01(self, batch_inputs: torch.Tensor) -> torch.Tensor:
        """The batch as RHIS takes it: RGB in [0, 1]."""
        return images_rgb01(self.data_preprocessor, batch_inputs)

    def extract_feat(self, batch_inputs: torch.Tensor):
        return self.detector.extract_feat(batch_inputs) if self.detector is not None else batch_inputs

    def _detections(self, batch_inputs: torch.Tensor, batch_data_samples: SampleList) -> InstanceList:
        """Boxes in input-image coordinates: the detector's (no grad outside joint training) or GT boxes."""
        if self.detector is None:
            results = []
            for sample in batch_data_samples:
                if 'gt_instances' not in sample or not sample.metainfo.get('annotated', True):
                    raise ValueError(
                        "mode='gt_boxes' segments the ground-truth boxes, and this sample has no annotations "
                        "(raw-image inference?): use a config with a detector (mode='joint' or 'frozen') for images "
                        'without annotations, or keep LoadAnnotations in the test pipeline')
                gt = sample.gt_instances
                boxes = gt.bboxes.tensor if hasattr(gt.bboxes, 'tensor') else gt.bboxes
                result = InstanceData()
                result.bboxes = boxes.float()
                result.labels = gt.labels
                result.scores = torch.ones(len(boxes), device=boxes.device)
                results.append(result)
            return results
        was_training = self.detector.training
        self.detector.eval()    # DETR-style detectors take training-only branches (denoising) in train mode
        try:
            with torch.no_grad():
                results = self.detector.predict(batch_inputs, copy.deepcopy(batch_data_samples), rescale=False)
        finally:
            self.detector.train(was_training)
        results = [r.pred_instances for r in results]
        return [r[r.scores >= self.score_thr] for r in results]

    def loss(self, batch_inputs: torch.Tensor, batch_data_samples: SampleList) -> dict:
        if self.mode == 'frozen' and not self.detector_loaded:
            raise RuntimeError("mode='frozen' trains the head under a trained detector, and none was loaded: set "
                               'model.detector_checkpoint=<the detector checkpoint> (or load_from a checkpoint of '
                               'this whole model)')
        losses = {}
        proposals = None
        if self.train_rois == 'both' and self.detector is not None:
            proposals = self._detections(batch_inputs, batch_data_samples)
        if self.mode == 'joint':
            losses.update(self.detector.loss(batch_inputs, batch_data_samples))
            self.detector_trained = True
        losses.update(self.roi_head.loss(self.images_rgb01(batch_inputs), batch_data_samples, proposals))
        return losses

    def predict(self, batch_inputs: torch.Tensor, batch_data_samples: SampleList, rescale: bool = True) -> SampleList:
        if self.detector is not None:
            warn_untrained_detector(self)
        detections = self._detections(batch_inputs, batch_data_samples)
        results = self.roi_head.predict(self.images_rgb01(batch_inputs), detections, batch_data_samples, rescale,
                                        score_by_mask=self.mode == 'gt_boxes')
        return self.add_pred_to_datasample(batch_data_samples, results)

    def _forward(self, batch_inputs: torch.Tensor, batch_data_samples: SampleList | None = None):
        detections = self._detections(batch_inputs, batch_data_samples)
        images = self.images_rgb01(batch_inputs)
        height, width = images.shape[-2:]
        rois = boxes_to_rois([d.bboxes for d in detections], height, width).to(images.device)
        return self.roi_head.rhis(images, rois)['masks']
