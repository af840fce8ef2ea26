"""BoundaryLossHook: phases the boundary loss in once the validation metric plateaus, then ramps its weight."""
from __future__ import annotations

from mmdet.registry import HOOKS
from mmengine.hooks import Hook

from rhis_plugin.losses.segmentation import PeopleSegLoss
from .hook_utils import find_modules

__all__ = ['BoundaryLossHook']


@HOOKS.register_module()
class BoundaryLossHook(Hook):
    """The schedule of lightweight human-segmentation work: train on BCE + region loss until the monitored
    validation metric stops improving, then switch the boundary term on at ``start_weight`` and raise it by
    ``step`` after every later validation (1 % per epoch by default), optionally lowering the LR when it starts.

    The weight goes to every :class:`~rhis_plugin.losses.PeopleSegLoss` in the model and is logged as
    ``boundary_weight``; the start is logged as a message. Progress survives resume (stored in checkpoints).

    Args:
        monitor: validation metric to watch (higher is better), e.g. ``'peopleseg/iou'``.
        patience: validations without an improvement of ``min_delta`` that count as a plateau.
        min_delta: smallest change that counts as an improvement.
        start_weight, step, max_weight: the ramp.
        lr_factor: multiply every LR by this when the term starts (``None``: leave the LR).
        start_after: start after this many validations at the latest (a fixed schedule; ``None``: plateau only).
    """
    priority = 'NORMAL'

    def __init__(self, monitor: str = 'peopleseg/iou', patience: int = 2, min_delta: float = 1e-3,
                 start_weight: float = 0.01, step: float = 0.01, max_weight: float = 1.0,
                 lr_factor: float | None = 0.1, start_after: int | None = None) -> None:
        if patience < 1:
            raise ValueError(f'patience must be >= 1, got {patience}')
        self.monitor = monitor
        self.patience = patience
        self.min_delta = min_delta
        self.start_weight = start_weight
        self.step = step
        self.max_weight = max_weight
        self.lr_factor = lr_factor
        self.start_after = start_after
        self.state = dict(best=float('-inf'), stale=0, validations=0, started_at=None)

    @property
    def weight(self) -> float:
        started_at = self.state['started_at']
        if started_at is None:
            return 0.0
        return min(self.max_weight, self.start_weight + self.step * (self.state['validations'] - started_at))

    def after_val_epoch(self, runner, metrics: dict | None = None) -> None:
        if metrics is None or self.monitor not in metrics:
            raise KeyError(f'BoundaryLossHook monitors {self.monitor!r}, which validation did not report '
                           f'(got {sorted(metrics or {})})')
        state = self.state
        state['validations'] += 1
        if state['started_at'] is not None:
            return
        value = float(metrics[self.monitor])
        if value > state['best'] + self.min_delta:
            state['best'], state['stale'] = value, 0
        else:
            state['stale'] += 1
        forced = self.start_after is not None and state['validations'] >= self.start_after
        if state['stale'] >= self.patience or forced:
            state['started_at'] = state['validations']
            reason = 'on schedule' if forced and state['stale'] < self.patience else f'{self.monitor} plateaued'
            runner.logger.info(f'boundary loss starts after validation {state["validations"]} ({reason} at '
                               f'{value:.4f}; best {state["best"]:.4f}), weight {self.start_weight}')
            if self.lr_factor is not None:
                for group in runner.optim_wrapper.param_groups:
                    group['lr'] *= self.lr_factor
                runner.logger.info(f'learning rate multiplied by {self.lr_factor}')

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        weight = self.weight
        for loss in find_modules(runner.model, lambda m: isinstance(m, PeopleSegLoss), 'PeopleSegLoss'):
            loss.boundary_weight = weight
        runner.message_hub.update_scalar('train/boundary_weight', weight)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['boundary_loss_schedule'] = dict(self.state)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self.state.update(checkpoint.get('boundary_loss_schedule', {}))
