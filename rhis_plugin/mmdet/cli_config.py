"""Config loading shared by tools/train.py and tools/test.py, as mmdet's own tools do it."""
from __future__ import annotations

import os.path as osp

from mmengine.config import Config


def load_cli_config(config: str, cfg_options: dict | None, work_dir: str | None, launcher: str) -> Config:
    """Reads ``config``, applies ``--cfg-options`` and picks the work dir (``./work_dirs/<config name>`` by default)."""
    cfg = Config.fromfile(config)
    cfg.launcher = launcher
    if cfg_options is not None:
        cfg.merge_from_dict(cfg_options)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(config))[0])
    return cfg
