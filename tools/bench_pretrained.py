#!/usr/bin/env python
"""From scratch vs ImageNet start: the same RHIS stages, data and budget, only the encoders' starting weights differ.

    python tools/bench_pretrained.py --train ../shared/data/pennfudan/train ../shared/data/coco_person_train:train \
        --val ../shared/data/pennfudan/val ../shared/data/coco_person_train:val \
        --peopleseg-iters 60 --iters 60 --image-size 320 --seeds 0 1 2 --out-dir docs/results/pretrained

Arms (``--arms``): ``lite0_scratch`` and ``lite0_imagenet`` (``rhis_lite0_64x48``; the UNet's encoder and the ROI
encoder random, or from the offline ImageNet weights) and ``b0_scratch`` (``rhis_b0_64x48``, random). Per arm, one
people-seg UNet is trained (tools/train_peopleseg.py, seed 0: stage 1 is shared by the arm's seeds), then the head
(tools/train_rhis.py) once per seed on that frozen UNet. Both tools print their commands here; every run writes its
JSON into ``--out-dir`` and is skipped when it exists (the command resumes). Scores: oracle-box mask AP on each val
folder (original sizes), mean +- sd over seeds, in ``summary.json``.
"""
from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from pathlib import Path

from rhis_plugin.models.presets import preset_config
from rhis_plugin.utils.benchmark import mean_sd, write_json

ROOT = Path(__file__).resolve().parents[1]
ARMS = {
    'lite0_scratch': dict(encoder='efficientnet_lite0', preset='rhis_lite0_64x48', pretrained=False),
    'lite0_imagenet': dict(encoder='efficientnet_lite0', preset='rhis_lite0_64x48', pretrained=True),
    'b0_scratch': dict(encoder='efficientnet_b0', preset='rhis_b0_64x48', pretrained=False),
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--train', nargs='+', required=True, help='COCO folders: PATH or PATH:train')
    parser.add_argument('--val', nargs='+', required=True, help='COCO folders: PATH or PATH:val')
    parser.add_argument('--arms', nargs='+', default=list(ARMS), choices=list(ARMS))
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--peopleseg-iters', type=int, default=150)
    parser.add_argument('--iters', type=int, default=150, help='head iterations per seed')
    parser.add_argument('--image-size', type=int, default=384, help='head training letterbox (square)')
    parser.add_argument('--working-size', type=int, default=320, help='UNet training letterbox')
    parser.add_argument('--lr', type=float, default=2e-3)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--out-dir', required=True)
    return parser.parse_args(argv)


def run(command: list[str]) -> None:
    print('$ ' + shlex.join(command), flush=True)
    subprocess.run(command, check=True)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    common = ['--threads', str(args.threads)]
    rows = {}
    for arm in args.arms:
        spec = ARMS[arm]
        start = ['--pretrained'] if spec['pretrained'] else []
        unet, unet_json = Path('work_dirs/bench_pretrained') / f'{arm}_unet.pth', out / f'{arm}_unet.json'
        heads_missing = any(not (out / f'{arm}_seed{seed}.json').is_file() for seed in args.seeds)
        if not unet_json.is_file() or (heads_missing and not unet.is_file()):   # resumes: keep a finished arm's UNet
            run([sys.executable, str(ROOT / 'tools' / 'train_peopleseg.py'), '--train', *args.train,
                 '--val', *args.val, '--encoder', spec['encoder'], *start, '--iters', str(args.peopleseg_iters),
                 '--decoder-channels', *map(str, preset_config(spec['preset']).unet_decoder_channels),
                 '--working-size', str(args.working_size), '--seed', '0', '--out', str(unet),
                 '--metrics', str(unet_json), *common])
        heads = []
        for seed in args.seeds:
            path = out / f'{arm}_seed{seed}.json'
            if not path.is_file():
                run([sys.executable, str(ROOT / 'tools' / 'train_rhis.py'), '--train', *args.train, '--val', *args.val,
                     '--preset', spec['preset'], '--peopleseg', str(unet), *start, '--iters', str(args.iters),
                     '--image-size', str(args.image_size), str(args.image_size), '--lr', str(args.lr),
                     '--seed', str(seed), '--metrics', str(path), *common])
            heads.append(json.loads(path.read_text()))
        rows[arm] = {'preset': spec['preset'], 'start': 'ImageNet' if spec['pretrained'] else 'scratch',
                     'seeds': args.seeds, 'val': {}}
        for val in args.val:     # every figure by rhis eval's protocol, on the models as trained (one UNet per arm)
            rows[arm]['val'][val] = {**mean_sd('segm_AP', [h['val'][val]['segm_AP'] for h in heads]),
                                     **mean_sd('target_iou', [h['val'][val]['target_iou'] for h in heads]),
                                     'unet_iou': heads[0]['val'][val]['unet_iou']}
    results = {'command': 'python tools/bench_pretrained.py ' + shlex.join(argv if argv is not None else sys.argv[1:]),
               'train': args.train, 'peopleseg_iters': args.peopleseg_iters, 'iters': args.iters,
               'image_size': args.image_size, 'threads': args.threads, 'arms': rows}
    write_json(out / 'summary.json', results)
    print_table(results)
    return results


def print_table(results: dict) -> None:
    vals = list(next(iter(results['arms'].values()))['val'])
    print(f"\nGT-box mask AP, mean +- sd over seeds (UNet {results['peopleseg_iters']} + head {results['iters']} "
          'iterations per arm)')
    print('| preset | start | ' + ' | '.join(f'mask AP {v}' for v in vals) + ' | ' +
          ' | '.join(f'UNet IoU {v}' for v in vals) + ' |')
    print('|---|---|' + '---|' * (2 * len(vals)))
    for row in results['arms'].values():
        ap = ' | '.join(f"{100 * row['val'][v]['segm_AP']:.1f} +- {100 * row['val'][v]['segm_AP_sd']:.1f}" for v in vals)
        iou = ' | '.join(f"{row['val'][v]['unet_iou']:.3f}" for v in vals)
        print(f"| {row['preset']} | {row['start']} | {ap} | {iou} |")


if __name__ == '__main__':
    main(sys.argv[1:])
