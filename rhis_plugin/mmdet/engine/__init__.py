"""Training-loop pieces (hooks, optimizer wrapper constructors)."""
from .hooks import BoundaryLossHook, DistillationScheduleHook, ProgressiveUnfreezeHook
from .optimizers import FrozenParamsOptimWrapperConstructor

__all__ = ['BoundaryLossHook', 'DistillationScheduleHook', 'ProgressiveUnfreezeHook', 'FrozenParamsOptimWrapperConstructor']
