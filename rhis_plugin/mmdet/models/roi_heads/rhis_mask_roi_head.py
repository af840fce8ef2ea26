"""RHISMaskRoIHead: RHIS as the mask branch of a standard two-stage detector, in place of Mask R-CNN's FCN
mask head: the RPN and the box branch are mmdet's, masks come from RHIS on the detected boxes.

It needs the batch images, which :class:`~rhis_plugin.mmdet.models.detectors.RHISTwoStageDetector` lends it.
"""
from __future__ import annotations

import torch
from mmdet.models.roi_heads import StandardRoIHead
from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmdet.utils import InstanceList

__all__ = ['RHISMaskRoIHead']


@MODELS.register_module()
class RHISMaskRoIHead(StandardRoIHead):
    """``StandardRoIHead`` box branch + an :class:`~rhis_plugin.mmdet.models.roi_heads.RHISRoIHead` mask branch.

    Args:
        rhis: the ``RHISRoIHead`` arguments (preset, loss, person_labels, its own train_cfg/test_cfg, weights).
        bbox_roi_extractor, bbox_head, train_cfg, test_cfg: as for ``StandardRoIHead`` (box branch only).
    """

    def __init__(self, rhis: dict, **kwargs) -> None:
        if kwargs.get('mask_head') is not None:
            raise ValueError('RHISMaskRoIHead replaces the mask head: leave mask_head unset')
        super().__init__(**kwargs)
        self.rhis_head = MODELS.build(dict(type='RHISRoIHead', **rhis))
        self.images: torch.Tensor | None = None

    def _images(self) -> torch.Tensor:
        if self.images is None:
            raise RuntimeError('RHISMaskRoIHead needs the batch images: use it inside RHISTwoStageDetector')
        return self.images

    def loss(self, x, rpn_results_list: InstanceList, batch_data_samples: SampleList) -> dict:
        images = self._images()
        losses = super().loss(x, rpn_results_list, batch_data_samples)
        losses.update(self.rhis_head.loss(images, batch_data_samples))
        return losses

    def predict(self, x, rpn_results_list: InstanceList, batch_data_samples: SampleList,
                rescale: bool = False) -> InstanceList:
        images = self._images()
        results = super().predict(x, rpn_results_list, batch_data_samples, rescale=False)
        return self.rhis_head.predict(images, results, batch_data_samples, rescale)
