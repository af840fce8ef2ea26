#!/usr/bin/env python
"""Trains an mmdet config, as mmdet's tools/train.py does (for users without mim).

    python tools/train.py configs/mmdet/rhis/rhis-b0_rtdetr-r18_1xb4-36e_coco-person.py [--work-dir DIR] \
        [--resume [CKPT]] [--cfg-options k=v ...] [--launcher pytorch]   # under torchrun for several GPUs
"""
import argparse

from mmengine.runner import Runner

from rhis_plugin.mmdet.runner import load_cli_config, parse_runner_args


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a detector (mmdet)')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument('--amp', action='store_true', help='enable automatic mixed precision training')
    parser.add_argument('--resume', nargs='?', type=str, const='auto',
                        help='resume from this checkpoint, or from the latest in the work dir when no path is given')
    return parse_runner_args(parser)


def main() -> None:
    args = parse_args()
    cfg = load_cli_config(args.config, args.cfg_options, args.work_dir, args.launcher)
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.loss_scale = 'dynamic'
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    Runner.from_cfg(cfg).train()


if __name__ == '__main__':
    main()
