"""Short, iteration-budgeted training runs of any config in this repository (ablations, benchmarks, tests).

Turns an epoch-based config into an iteration-based one with the same model, data and losses: a warm-up plus
cosine LR over the budget, one checkpoint at the end, validation once after training.
"""
from __future__ import annotations

import os
import os.path as osp
from contextlib import contextmanager
from typing import Iterator

from mmengine.config import Config
from mmengine.runner import Runner

__all__ = ['short_run_config', 'train_and_validate', 'data_root_env']


@contextmanager
def data_root_env(data_root: str | None) -> Iterator[None]:
    """Sets RHIS_DATA_ROOT (read by the dataset configs when they are parsed) for the duration."""
    previous = os.environ.get('RHIS_DATA_ROOT')
    if data_root is not None:
        os.environ['RHIS_DATA_ROOT'] = osp.join(osp.abspath(data_root), '')
    try:
        yield
    finally:
        if data_root is not None:
            if previous is None:
                os.environ.pop('RHIS_DATA_ROOT', None)
            else:
                os.environ['RHIS_DATA_ROOT'] = previous


def _set_resize(pipeline: list, size: tuple[int, int] | None) -> None:
    if size is None:
        return
    resizes = [step for step in pipeline if step['type'] == 'Resize']
    if not resizes:
        raise ValueError('the pipeline has no Resize step to set the image size on')
    for step in resizes:
        step['scale'] = tuple(size)


def short_run_config(config: str, work_dir: str, iters: int, data_root: str | None = None,
                     image_size: tuple[int, int] | None = None, batch_size: int | None = None,
                     lr: float | None = None, num_workers: int = 0, seed: int = 0,
                     cfg_options: dict | None = None) -> Config:
    """``config`` on an ``iters`` budget. ``image_size`` (w, h) replaces every Resize scale; ``data_root`` a
    COCO-format folder with train/ and val/ (default: the config's)."""
    if iters < 1:
        raise ValueError(f'iters must be >= 1, got {iters}')
    with data_root_env(data_root):
        cfg = Config.fromfile(config)
    cfg.work_dir = work_dir
    cfg.randomness = dict(seed=seed, deterministic=False)
    # No validation inside the loop (it would run at the last iteration too): train_and_validate runs it once.
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters, val_begin=iters + 1, val_interval=iters + 1)
    warmup = max(1, min(100, iters // 10))
    cfg.param_scheduler = [] if iters < 2 else [      # a single iteration runs at the base LR
        dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=warmup),
        dict(type='CosineAnnealingLR', by_epoch=False, begin=warmup, end=iters, T_max=iters - warmup,
             eta_min_ratio=0.02),
    ]
    if lr is not None:
        cfg.optim_wrapper.optimizer.lr = lr
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', by_epoch=False, interval=iters, max_keep_ckpts=1)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=max(1, min(20, iters // 5)))
    cfg.log_processor = dict(type='LogProcessor', window_size=10, by_epoch=False)
    for hook in cfg.get('custom_hooks', []):
        if hook['type'] in ('DistillationScheduleHook', 'ProgressiveUnfreezeHook'):
            hook['by_epoch'] = False
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg[name]
        loader.num_workers = num_workers
        loader.persistent_workers = num_workers > 0
        _set_resize(loader.dataset.pipeline, image_size)
    if batch_size is not None:
        cfg.train_dataloader.batch_size = batch_size
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def train_and_validate(cfg: Config) -> tuple[dict[str, float], str]:
    """Trains, then validates once. Returns the validation metrics and the final checkpoint's path."""
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = runner.val()
    checkpoint = osp.join(cfg.work_dir, f'iter_{cfg.train_cfg.max_iters}.pth')
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'training wrote no final checkpoint at {checkpoint}')
    return {k: float(v) for k, v in metrics.items()}, checkpoint
