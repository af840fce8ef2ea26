"""Tiny synthetic COCO data and command-line helpers for the mmdet integration tests."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rhis_plugin.data.synthetic import SceneConfig, generate_dataset

ROOT = Path(__file__).resolve().parents[2]
MIM = Path(sys.executable).with_name('mim')


@pytest.fixture(autouse=True)
def mmdet_scope():
    """Every test builds in mmdet's registry scope, whatever scope an earlier Runner left current."""
    from mmdet.utils import register_all_modules
    from mmengine.registry import DefaultScope

    register_all_modules(init_default_scope=False)
    with DefaultScope.overwrite_default_scope('mmdet'):
        yield


@pytest.fixture(scope='session')
def synthetic_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp('coco_person')
    cfg = SceneConfig(height=128, width=128, min_persons=2, max_persons=3)
    generate_dataset(root / 'train', 8, seed=0, cfg=cfg)
    generate_dataset(root / 'val', 4, seed=1, cfg=cfg)
    return root


@pytest.fixture(scope='session')
def tiny_options(synthetic_root):
    """--cfg-options that point a config at the tiny set, 128x128 inputs, no workers, a short schedule."""
    def options(epochs: int = 1, detr_prefix: str | None = None) -> list[str]:
        """``detr_prefix``: where an RT-DETR sits in the config (``model`` or ``model.detector``), to shrink it."""
        root = f'{synthetic_root}/'
        opts = [f'train_cfg.max_epochs={epochs}', 'train_dataloader.batch_size=2']
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            opts += [f'{loader}.dataset.data_root={root}', f'{loader}.num_workers=0',
                     f'{loader}.persistent_workers=False']
        opts += ['train_dataloader.dataset.pipeline.2.scale=(128,128)',
                 'val_dataloader.dataset.pipeline.2.scale=(128,128)',
                 'test_dataloader.dataset.pipeline.2.scale=(128,128)',
                 f'val_evaluator.ann_file={root}val/annotations.json',
                 f'test_evaluator.ann_file={root}val/annotations.json',
                 'default_hooks.logger.interval=1', 'default_hooks.visualization.draw=False',
                 'param_scheduler.0.end=4']
        if detr_prefix:
            opts += [f'{detr_prefix}.num_queries=50', f'{detr_prefix}.test_cfg.max_per_img=20',
                     f'{detr_prefix}.dn_cfg.group_cfg.num_dn_queries=20']
        return opts
    return options


@pytest.fixture(scope='session')
def run_cli():
    """Runs a command with PYTHONWARNINGS quiet; returns the CompletedProcess (asserting success)."""
    def run(args: list[str], cwd: Path, timeout: int = 900, check: bool = True) -> subprocess.CompletedProcess:
        env = {**os.environ, 'PYTHONWARNINGS': 'ignore'}
        result = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True,
                                timeout=timeout)
        if check:
            assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
        return result
    return run
