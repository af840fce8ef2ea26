"""Scalar schedules over training progress, for distillation temperatures and loss weights.

``ValueSchedule(start, end, kind)(progress)`` maps progress in [0, 1] to a value: ``start`` at 0 and ``end`` at 1
(``constant`` stays at ``start``), monotonic in between.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ['ValueSchedule', 'SCHEDULE_KINDS']

SCHEDULE_KINDS = ('constant', 'linear', 'cosine', 'exponential', 'step')


@dataclass(frozen=True)
class ValueSchedule:
    """A value (temperature, loss weight) that moves from ``start`` to ``end`` over training.

    Args:
        start: value at progress 0 (e.g. T0 = 10).
        end: value at progress 1 (e.g. T1 = 1).
        kind: ``constant``, ``linear``, ``cosine`` (half cosine), ``exponential`` (geometric; start and end > 0)
            or ``step`` (``num_steps`` equal plateaus, linearly spaced from start to end).
        num_steps: plateaus of the ``step`` kind (>= 2).
    """
    start: float = 10.0
    end: float = 1.0
    kind: str = 'cosine'
    num_steps: int = 4

    def __post_init__(self) -> None:
        if self.kind not in SCHEDULE_KINDS:
            raise ValueError(f'schedule kind must be one of {SCHEDULE_KINDS}, got {self.kind!r}')
        if self.kind == 'exponential' and (self.start <= 0 or self.end <= 0):
            raise ValueError('an exponential schedule needs start > 0 and end > 0')
        if self.kind == 'step' and self.num_steps < 2:
            raise ValueError('a step schedule needs num_steps >= 2')

    def __call__(self, progress: float) -> float:
        p = min(max(float(progress), 0.0), 1.0)
        if self.kind == 'constant':
            return self.start
        if self.kind == 'linear':
            fraction = p
        elif self.kind == 'cosine':
            fraction = 0.5 * (1 - math.cos(math.pi * p))
        elif self.kind == 'exponential':
            return self.start * (self.end / self.start) ** p
        else:
            fraction = min(int(p * self.num_steps), self.num_steps - 1) / (self.num_steps - 1)
        return self.start + (self.end - self.start) * fraction
