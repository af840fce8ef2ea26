"""Config loading shared by tools/train.py and tools/test.py, as mmdet's own tools do it, plus distributed runs on
CPU: mmengine 0.10.7 assumes CUDA under ``--launcher pytorch`` (``torch.cuda.set_device``, nccl, a DDP wrapper with
``device_ids=[LOCAL_RANK]``); on a machine without CUDA, :func:`configure_cpu_distributed` starts gloo before the
Runner and asks for a wrapper with ``device_ids=None``. GPU runs are left exactly as mmengine sets them up."""
from __future__ import annotations

import argparse
import os
import os.path as osp

import torch
import torch.distributed as dist
from mmengine.config import Config, DictAction

__all__ = ['parse_runner_args', 'load_cli_config', 'configure_cpu_distributed']


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
    if launcher == 'pytorch' and not torch.cuda.is_available():
        configure_cpu_distributed(cfg)
    return cfg


def configure_cpu_distributed(cfg: Config) -> None:
    """Distributed training on CPU processes (``torchrun ... --launcher pytorch`` without CUDA): a gloo process
    group from torchrun's environment (``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``/``PORT``), set up before the Runner
    (which then skips mmengine's CUDA-only setup), and a DDP wrapper without device ids."""
    for name in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'):
        if name not in os.environ:
            raise RuntimeError(f'--launcher pytorch needs {name} in the environment: start the tool with torchrun')
    if not dist.is_initialized():
        dist.init_process_group('gloo', rank=int(os.environ['RANK']), world_size=int(os.environ['WORLD_SIZE']))
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})['backend'] = 'gloo'
    # Frozen stages and heads that skip a branch leave parameters without gradient in some iterations.
    cfg.model_wrapper_cfg = dict(type='MMDistributedDataParallel', device_ids=None, broadcast_buffers=False,
                                 find_unused_parameters=True)
