"""ProgressiveUnfreezeHook: unfreezes the people-seg encoder stage by stage, from the deepest one."""
from __future__ import annotations

from mmdet.registry import HOOKS
from mmengine.hooks import Hook

from .hook_utils import find_modules

__all__ = ['ProgressiveUnfreezeHook']


@HOOKS.register_module()
class ProgressiveUnfreezeHook(Hook):
    """Before ``start`` the encoder is frozen (only the decoder trains); from ``start`` on, one more encoder stage
    (deepest first) trains every ``every`` epochs (or iterations with ``by_epoch=False``) until all do.
    Give the encoder a lower LR in the config (``paramwise_cfg.custom_keys={'unet.encoder': dict(lr_mult=0.3)}``).
    Frozen stages keep their BatchNorm statistics. Acts on models with ``set_trainable_encoder_stages``
    (:class:`~rhis_plugin.mmdet.models.segmentors.PeopleSegmentor` and its distiller).
    """
    priority = 'NORMAL'

    def __init__(self, start: int = 5, every: int = 3, by_epoch: bool = True) -> None:
        if start < 0 or every < 1:
            raise ValueError(f'need start >= 0 and every >= 1, got start={start}, every={every}')
        self.start = start
        self.every = every
        self.by_epoch = by_epoch

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        unit = runner.epoch if self.by_epoch else runner.iter
        for model in find_modules(runner.model, lambda m: hasattr(m, 'set_trainable_encoder_stages'),
                                  'people-seg encoder'):
            total = len(model.unet.encoder_stages())
            count = 0 if unit < self.start else min(total, 1 + (unit - self.start) // self.every)
            if count != model.trainable_encoder_stages:
                model.set_trainable_encoder_stages(count)
                runner.logger.info(f'encoder stages training: {count}/{total}')
