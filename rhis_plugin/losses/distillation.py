"""Knowledge-distillation losses (Hinton et al. 2015): soft targets at temperature T, scaled by T^2 so the
gradient magnitude does not shrink as T grows, and feature matching through 1x1 adapters.

The teacher side is always detached: gradients reach the student only.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ['binary_kd_loss', 'softmax_kd_loss', 'mix_distillation', 'FeatureMatching']


def _check(student: torch.Tensor, teacher: torch.Tensor, temperature: float) -> None:
    if student.shape != teacher.shape:
        raise ValueError(f'student {list(student.shape)} and teacher {list(teacher.shape)} logits differ in shape')
    if temperature <= 0:
        raise ValueError(f'temperature must be > 0, got {temperature}')


def binary_kd_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """T^2 * mean over pixels of KL(Bernoulli(sigmoid(t / T)) || Bernoulli(sigmoid(s / T)))."""
    _check(student_logits, teacher_logits, temperature)
    t = teacher_logits.detach() / temperature
    s = student_logits / temperature
    p_t = torch.sigmoid(t)
    kl = p_t * (F.logsigmoid(t) - F.logsigmoid(s)) + (1 - p_t) * (F.logsigmoid(-t) - F.logsigmoid(-s))
    return temperature ** 2 * kl.mean()


def softmax_kd_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float,
                    dim: int = 1) -> torch.Tensor:
    """T^2 * mean over positions of KL(softmax(t / T) || softmax(s / T)) along ``dim`` (the class axis)."""
    _check(student_logits, teacher_logits, temperature)
    log_t = F.log_softmax(teacher_logits.detach() / temperature, dim=dim)
    log_s = F.log_softmax(student_logits / temperature, dim=dim)
    return temperature ** 2 * (log_t.exp() * (log_t - log_s)).sum(dim).mean()


def mix_distillation(losses: dict[str, torch.Tensor], student_logits: torch.Tensor, teacher_logits: torch.Tensor,
                     weight: float, temperature: float, name: str = 'loss_kd') -> dict[str, torch.Tensor]:
    """The loss terms of a student RHIS taught by a teacher on the same ROIs: ``(1 - weight)`` x each ground-truth
    term, plus ``name`` = ``weight`` x :func:`softmax_kd_loss` over the 3 classes, the teacher's logits resized to
    the student's mask size where their ROI sizes differ.

    Example:
        >>> terms = mix_distillation({'loss_ce': torch.tensor(1.0)}, torch.zeros(2, 3, 8, 6), torch.zeros(2, 3, 4, 3),
        ...                          weight=0.5, temperature=4.0)
        >>> {k: round(float(v), 3) for k, v in terms.items()}
        {'loss_ce': 0.5, 'loss_kd': 0.0}
    """
    if not 0 <= weight <= 1:
        raise ValueError(f'the distillation weight must be in [0, 1], got {weight}')
    if teacher_logits.shape[-2:] != student_logits.shape[-2:]:
        teacher_logits = F.interpolate(teacher_logits, size=student_logits.shape[-2:], mode='bilinear',
                                       align_corners=False)
    mixed = {key: (1 - weight) * value for key, value in losses.items()}
    mixed[name] = weight * softmax_kd_loss(student_logits, teacher_logits, temperature)
    return mixed


class FeatureMatching(nn.Module):
    """MSE between 1x1-adapted student feature maps and the teacher's, level by level (FitNets-style).

    Student maps are resized to the teacher's resolution where they differ. The adapters train with the student.
    """

    def __init__(self, student_channels: Sequence[int], teacher_channels: Sequence[int]) -> None:
        super().__init__()
        if len(student_channels) != len(teacher_channels):
            raise ValueError('student and teacher need the same number of feature levels')
        self.adapters = nn.ModuleList(nn.Conv2d(s, t, 1) for s, t in zip(student_channels, teacher_channels))

    def forward(self, student: Sequence[torch.Tensor], teacher: Sequence[torch.Tensor]) -> torch.Tensor:
        if len(student) != len(self.adapters) or len(teacher) != len(self.adapters):
            raise ValueError(f'expected {len(self.adapters)} feature levels')
        total = 0.0
        for adapter, s, t in zip(self.adapters, student, teacher):
            s = adapter(s)
            if s.shape[-2:] != t.shape[-2:]:
                s = F.interpolate(s, size=t.shape[-2:], mode='bilinear', align_corners=False)
            total = total + F.mse_loss(s, t.detach())
        return total / len(self.adapters)
