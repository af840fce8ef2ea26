"""PeopleSegDistiller: a frozen teacher people-seg UNet (e.g. B7) teaches a student PeopleSegmentor (B0/B1).

    loss = (1 - a) * (student's own losses on GT) + a * T^2 * KL(sigmoid(t / T) || sigmoid(s / T))
           + feature_weight * MSE(adapter(student decoder features), teacher decoder features)

``a`` (``kd_weight``) and ``T`` (``kd_temperature``) are attributes that DistillationScheduleHook moves during
training (e.g. T from 10 to 1). The teacher is frozen and outside the module tree (:class:`FrozenTeacherMixin`).
"""
from __future__ import annotations

from typing import Sequence

import torch
from mmdet.registry import MODELS

from rhis_plugin.losses.distillation import FeatureMatching, binary_kd_loss
from rhis_plugin.models.peopleseg_unet import PeopleSegUNet
from ..utils.frozen_teacher import FrozenTeacherMixin
from ...runner.checkpoint import load_peopleseg_checkpoint
from .people_segmentor import PeopleSegmentor

__all__ = ['PeopleSegDistiller']


@MODELS.register_module()
class PeopleSegDistiller(FrozenTeacherMixin, PeopleSegmentor):
    """A PeopleSegmentor student trained with a frozen, bigger people-seg teacher (binary KL at temperature T).

    Args:
        teacher: the teacher UNet, ``dict(encoder=..., decoder_channels=...)``.
        teacher_checkpoint: the teacher's trained weights (a PeopleSegmentor checkpoint or an smp state dict).
            Needed to train; a student built from this config can be tested without it.
        kd_temperature: T (a schedule hook overrides it every iteration).
        kd_weight: a, the share of the distillation term (0 trains on GT only).
        feature_weight: weight of feature matching (0 turns it off).
        feature_levels: decoder blocks matched (0 = stride 16 ... 4 = full resolution).
        **kwargs: the student, as :class:`PeopleSegmentor` takes it.
    """

    def __init__(self, teacher: dict, teacher_checkpoint: str | None = None, kd_temperature: float = 10.0,
                 kd_weight: float = 0.5, feature_weight: float = 0.0, feature_levels: Sequence[int] = (2, 3),
                 **kwargs) -> None:
        super().__init__(**kwargs)
        teacher_unet = PeopleSegUNet(teacher.get('encoder', 'timm-efficientnet-b7'), frozen=True,
                                     decoder_channels=tuple(teacher.get('decoder_channels', (256, 128, 64, 32, 16))))
        self.attach_teacher(teacher_unet, teacher_checkpoint, load_peopleseg_checkpoint, kd_temperature, kd_weight)
        self.feature_weight = feature_weight
        self.feature_levels = tuple(feature_levels)
        self.feature_matching = None
        if feature_weight > 0:
            self.feature_matching = FeatureMatching(self.unet.decoder_widths(self.feature_levels),
                                                    teacher_unet.decoder_widths(self.feature_levels))

    def loss(self, inputs: torch.Tensor, data_samples: list) -> dict[str, torch.Tensor]:
        teacher = self.require_teacher('model.teacher_checkpoint')
        a = self.kd_weight
        logits, student_features = self.unet.forward_features(inputs, self.feature_levels)
        with torch.no_grad():
            teacher_logits, teacher_features = teacher.forward_features(inputs, self.feature_levels)
        gt = self.targets(inputs, data_samples)
        losses = {name: (1 - a) * value for name, value in
                  self.loss_fn(logits, gt['target'], gt['valid'], gt.get('signed_distance')).items()}
        losses['loss_kd'] = a * binary_kd_loss(logits, teacher_logits, self.kd_temperature)
        if self.feature_matching is not None:
            losses['loss_feature'] = self.feature_weight * self.feature_matching(student_features, teacher_features)
        losses.update(self.refine_losses(inputs, logits, gt))
        return losses
