"""Training hooks: distillation schedules, the boundary-loss switch and progressive unfreezing."""
from .boundary_loss_hook import BoundaryLossHook
from .distillation_schedule_hook import DistillationScheduleHook
from .progressive_unfreeze_hook import ProgressiveUnfreezeHook

__all__ = ['BoundaryLossHook', 'DistillationScheduleHook', 'ProgressiveUnfreezeHook']
