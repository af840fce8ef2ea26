"""RHISTwoStageDetector: a standard two-stage detector (Faster R-CNN style) whose mask branch is RHIS.

mmdet's ``TwoStageDetector`` hands its RoIHead neck features only, and RHIS needs the image itself, so this
detector lends its :class:`~rhis_plugin.mmdet.models.roi_heads.RHISMaskRoIHead` the batch images for the
duration of one ``loss``/``predict``.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch
from mmdet.models.detectors import TwoStageDetector
from mmdet.registry import MODELS
from mmdet.structures import SampleList

from ..utils.images import images_rgb01
from .rhis_detector import warn_untrained_detector

__all__ = ['RHISTwoStageDetector']


@MODELS.register_module()
class RHISTwoStageDetector(TwoStageDetector):
    """``TwoStageDetector`` whose ``roi_head`` is an :class:`RHISMaskRoIHead`. Predicting with weights it never
    loaded nor trained warns (:class:`UntrainedDetectorWarning`)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.detector_loaded = False     # a checkpoint with the detector's weights was loaded
        self.detector_trained = False    # a training step ran
        self.register_load_state_dict_post_hook(RHISTwoStageDetector._note_loaded)

    @staticmethod
    def _note_loaded(module: 'RHISTwoStageDetector', incompatible_keys) -> None:
        """A checkpoint that holds the box branch (no backbone / RPN / box head key missing) loads the detector."""
        detector_parts = ('backbone.', 'neck.', 'rpn_head.', 'roi_head.bbox_head.')
        if not any(k.startswith(detector_parts) for k in incompatible_keys.missing_keys):
            module.detector_loaded = True

    @contextmanager
    def _lend_images(self, batch_inputs: torch.Tensor) -> Iterator[None]:
        self.roi_head.images = images_rgb01(self.data_preprocessor, batch_inputs)
        try:
            yield
        finally:
            self.roi_head.images = None

    def loss(self, batch_inputs: torch.Tensor, batch_data_samples: SampleList) -> dict:
        self.detector_trained = True
        with self._lend_images(batch_inputs):
            return super().loss(batch_inputs, batch_data_samples)

    def predict(self, batch_inputs: torch.Tensor, batch_data_samples: SampleList, rescale: bool = True) -> SampleList:
        warn_untrained_detector(self)
        with self._lend_images(batch_inputs):
            return super().predict(batch_inputs, batch_data_samples, rescale)
