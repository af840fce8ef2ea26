"""DistillationScheduleHook: moves the distillation temperature (and optionally its weight) along a schedule."""
from __future__ import annotations

from mmdet.registry import HOOKS
from mmengine.hooks import Hook

from rhis_plugin.training.schedules import ValueSchedule
from .hook_utils import find_modules

__all__ = ['DistillationScheduleHook']


@HOOKS.register_module()
class DistillationScheduleHook(Hook):
    """Sets ``kd_temperature`` (and ``kd_weight`` when ``weight`` is given) on every distiller in the model
    before each training iteration, and logs them as ``kd_temperature`` / ``kd_weight``.

    Args:
        temperature: :class:`~rhis_plugin.training.ValueSchedule` fields, e.g.
            ``dict(start=10.0, end=1.0, kind='cosine')``; kinds constant, linear, cosine, exponential, step.
        weight: a schedule for the distillation weight ``a``; ``None`` leaves the model's value.
        by_epoch: progress counted in epochs (the value is constant within an epoch, reaching ``end`` in the
            last epoch) instead of iterations (reaching ``end`` at the last iteration).
    """
    priority = 'NORMAL'

    def __init__(self, temperature: dict | None = None, weight: dict | None = None, by_epoch: bool = False) -> None:
        self.temperature = ValueSchedule(**(temperature or dict(start=10.0, end=1.0, kind='cosine')))
        self.weight = None if weight is None else ValueSchedule(**weight)
        self.by_epoch = by_epoch

    def progress(self, runner) -> float:
        if self.by_epoch:
            return runner.epoch / max(1, runner.max_epochs - 1)
        return runner.iter / max(1, runner.max_iters - 1)

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        progress = self.progress(runner)
        temperature = self.temperature(progress)
        weight = None if self.weight is None else self.weight(progress)
        for distiller in find_modules(runner.model, lambda m: hasattr(m, 'kd_temperature'), 'distiller'):
            distiller.kd_temperature = temperature
            if weight is not None:
                distiller.kd_weight = weight
        runner.message_hub.update_scalar('train/kd_temperature', temperature)
        if weight is not None:
            runner.message_hub.update_scalar('train/kd_weight', weight)
