#!/usr/bin/env python
"""Evaluates a checkpoint with an mmdet config, as mmdet's tools/test.py does (for users without mim).

    python tools/test.py configs/mmdet/rhis/rhis-b0_rtdetr-r18_1xb4-36e_coco-person.py \
        work_dirs/rhis_rtdetr/epoch_36.pth [--cfg-options ...]
"""
import argparse

from mmengine.runner import Runner

from rhis_plugin.mmdet.runner import load_cli_config, parse_runner_args


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (and evaluate) a detector (mmdet)')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save the evaluation metrics')
    parser.add_argument('--out', help='dump predictions to a pickle file for offline evaluation')
    return parse_runner_args(parser)


def main() -> None:
    args = parse_args()
    cfg = load_cli_config(args.config, args.cfg_options, args.work_dir, args.launcher)
    cfg.load_from = args.checkpoint
    runner = Runner.from_cfg(cfg)
    if args.out is not None:
        if not args.out.endswith(('.pkl', '.pickle')):
            raise SystemExit('--out must be a .pkl or .pickle file')
        runner.test_evaluator.metrics.append(
            runner.build_evaluator(dict(type='DumpDetResults', out_file_path=args.out)).metrics[0])
    runner.test()


if __name__ == '__main__':
    main()
