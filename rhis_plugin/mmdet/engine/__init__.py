"""Training-loop pieces (hooks)."""
from .hooks import BoundaryLossHook, DistillationScheduleHook, ProgressiveUnfreezeHook

__all__ = ['BoundaryLossHook', 'DistillationScheduleHook', 'ProgressiveUnfreezeHook']
