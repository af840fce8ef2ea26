"""FrozenTeacherMixin: the teacher handling both distillers share."""
from __future__ import annotations

from typing import Callable

import torch.nn as nn

__all__ = ['FrozenTeacherMixin']


class FrozenTeacherMixin:
    """Keeps a teacher out of the module tree, as mmdet's KnowledgeDistillationSingleStageDetector does: it is
    not in the student's checkpoints or optimiser, never trains and stays in eval mode, yet follows the student
    across devices and dtypes. ``kd_temperature`` and ``kd_weight`` are what DistillationScheduleHook moves."""

    def attach_teacher(self, teacher: nn.Module, checkpoint: str | None, load: Callable[[nn.Module, str], None],
                       kd_temperature: float, kd_weight: float) -> None:
        if not 0.0 <= kd_weight <= 1.0:
            raise ValueError(f'kd_weight must be in [0, 1], got {kd_weight}')
        if kd_temperature <= 0:
            raise ValueError(f'kd_temperature must be > 0, got {kd_temperature}')
        teacher.requires_grad_(False)
        teacher.eval()
        object.__setattr__(self, 'teacher', teacher)
        self.teacher_checkpoint = checkpoint
        self.teacher_loaded = bool(checkpoint)
        if checkpoint:
            load(teacher, checkpoint)
        self.kd_temperature = float(kd_temperature)
        self.kd_weight = float(kd_weight)

    def require_teacher(self, option: str) -> nn.Module:
        """The teacher in eval mode; a clear error when no trained weights were given."""
        if not self.teacher_loaded:
            raise RuntimeError(f'distillation needs the trained teacher: set {option}')
        return self.teacher.eval()

    def _apply(self, fn, *args, **kwargs):
        teacher = self.__dict__.get('teacher')
        if teacher is not None:
            teacher._apply(fn, *args, **kwargs)
        return super()._apply(fn, *args, **kwargs)
