"""RHISDistillRoIHead: a frozen teacher RHIS (bigger encoders / ROI size) teaches the RHIS head on the same ROIs.

    loss = (1 - a) * (RHIS losses on GT) + a * T^2 * KL(softmax(t / T) || softmax(s / T)) over the 3 classes
           + feature_weight * MSE(adapter(student head features), teacher head features)

Teacher logits are resized to the student's mask size where the ROI sizes differ. The teacher is frozen and
outside the module tree (:class:`FrozenTeacherMixin`); ``kd_temperature`` / ``kd_weight`` follow
DistillationScheduleHook.
"""
from __future__ import annotations

import torch
from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmdet.utils import InstanceList

from rhis_plugin.losses.distillation import FeatureMatching, mix_distillation
from rhis_plugin.models import build_rhis
from ...runner.checkpoint import load_rhis_checkpoint
from ..utils.frozen_teacher import FrozenTeacherMixin
from .rhis_roi_head import RHISRoIHead

__all__ = ['RHISDistillRoIHead']


@MODELS.register_module()
class RHISDistillRoIHead(FrozenTeacherMixin, RHISRoIHead):
    """An RHISRoIHead student trained with a frozen, bigger RHIS teacher on the same ROIs.

    Args:
        teacher_preset: the teacher's RHIS preset; ``teacher_options`` override its fields.
        teacher_checkpoint: the trained teacher (see :func:`load_rhis_checkpoint`); needed to train only.
        kd_temperature, kd_weight, feature_weight: as in the module docstring (feature matching off at 0).
        **kwargs: the student, as :class:`RHISRoIHead` takes it.
    """

    def __init__(self, teacher_preset: str = 'rhis_b7_128x96', teacher_options: dict | None = None,
                 teacher_checkpoint: str | None = None, kd_temperature: float = 10.0, kd_weight: float = 0.5,
                 feature_weight: float = 0.0, **kwargs) -> None:
        super().__init__(**kwargs)
        teacher = build_rhis(teacher_preset, **(teacher_options or {}))
        self.attach_teacher(teacher, teacher_checkpoint, load_rhis_checkpoint, kd_temperature, kd_weight)
        self.feature_weight = feature_weight
        self.feature_matching = (FeatureMatching([self.rhis.feature_channels], [teacher.feature_channels])
                                 if feature_weight > 0 else None)

    def loss(self, images: torch.Tensor, batch_data_samples: SampleList,
             proposals_list: InstanceList | None = None) -> dict[str, torch.Tensor]:
        teacher = self.require_teacher('model.roi_head.teacher_checkpoint')
        rois, targets = self.training_rois(images, batch_data_samples, proposals_list)
        if len(rois) == 0:
            return super().loss(images, batch_data_samples, proposals_list)
        a = self.kd_weight
        sizes = self.valid_sizes(batch_data_samples)
        student = self.rhis(images, rois, image_sizes=sizes)
        with torch.no_grad():
            teacher_out = teacher(images, rois, with_features=True, image_sizes=sizes)
        losses = mix_distillation(self.rhis_losses(student, targets), student['masks'], teacher_out['masks'], a,
                                  self.kd_temperature, name='loss_rhis_kd')
        if self.feature_matching is not None:
            losses['loss_rhis_feature'] = self.feature_weight * self.feature_matching([student['features']],
                                                                                      [teacher_out['features']])
        return losses
