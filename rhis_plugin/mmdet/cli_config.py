"""Config loading shared by tools/train.py and tools/test.py, as mmdet's own tools do it."""
from __future__ import annotations

import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction


def parse_runner_args(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """Adds the options every mmdet tool takes (--cfg-options, --launcher, --local-rank) and parses."""
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings in the config, key=value pairs')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--local-rank', '--local_rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


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
