#!/usr/bin/env python
"""Quality against cost of the people-seg UNet's working size: the run that chose ``RHISConfig.working_size``.

    python tools/bench_working_size.py --train ../shared/data/pennfudan/train --val ../shared/data/pennfudan/val \
        --sizes 192 256 320 384 --iters 150 --peopleseg-iters 150 --batch-size 2 --max-rois 4 \
        --seeds 0 --out-dir docs/results/working_size

For each working size and seed, ``tools/bench_quality.py --working-size S --peopleseg train`` trains a people-seg UNet
on the train set letterboxed to S and ``rhis_b0_64x48`` on GT boxes over that frozen UNet (same head data, budget and
seed for every size), and scores mask AP on the val set at the original image size (``rhis eval``'s protocol). Each
run writes ``ws{S}_seed{N}.json`` into ``--out-dir`` and is skipped when that file exists (the command resumes). The table adds the UNet's cost: GMAC and
PyTorch CPU latency for a 480x640 and a 1080x1920 frame (the same at both sizes once the frame is larger than S).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import torch

from rhis_plugin.models import build_rhis
from rhis_plugin.utils.benchmark import mean_sd, median_latency, write_json
from rhis_plugin.utils.complexity import count_macs

FRAMES = ((480, 640), (1080, 1920))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--train', required=True)
    parser.add_argument('--val', required=True)
    parser.add_argument('--sizes', type=int, nargs='+', default=[192, 256, 320, 384])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0])
    parser.add_argument('--iters', type=int, default=200, help='head training iterations per run')
    parser.add_argument('--peopleseg-iters', type=int, default=200, help='UNet training iterations per run')
    parser.add_argument('--image-size', type=int, default=384, help='head training letterbox (same for all sizes)')
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--max-rois', type=int, default=8, help='head training ROIs per image')
    parser.add_argument('--preset', default='rhis_b0_64x48')
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--out-dir', required=True, help='per-run JSON files and summary.json')
    return parser.parse_args(argv)


def unet_cost(preset: str, size: int, threads: int) -> dict[str, float]:
    """GMAC and PyTorch CPU milliseconds of resizing a frame to the working size and running the UNet."""
    torch.set_num_threads(threads)
    model = build_rhis(preset, working_size=size, aux_heads=False).eval()
    cost = {}
    for height, width in FRAMES:
        images = torch.rand(1, 3, height, width)
        cost[f'gmac_{height}x{width}'] = count_macs(lambda: model.segment_people(images)) / 1e9
        with torch.inference_mode():
            cost[f'ms_{height}x{width}'] = 1000 * median_latency(lambda: model.segment_people(images), warmup=1,
                                                                 repeats=5)
    return cost


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tool = Path(__file__).with_name('bench_quality.py')
    rows = {}
    for size in args.sizes:
        runs = []
        for seed in args.seeds:
            path = out_dir / f'ws{size}_seed{seed}.json'
            if not path.is_file():
                work_dir = Path('work_dirs/bench_working_size') / f'ws{size}_seed{seed}'
                command = [sys.executable, str(tool), '--train', args.train, '--val', args.val, '--contenders',
                           args.preset, '--working-size', str(size), '--peopleseg', 'train', '--iters', str(args.iters),
                           '--peopleseg-iters', str(args.peopleseg_iters), '--image-size', str(args.image_size),
                           '--seeds', str(seed), '--batch-size', str(args.batch_size), '--max-rois',
                           str(args.max_rois), '--threads', str(args.threads), '--out-dir', str(work_dir)]
                print('==', ' '.join(command), flush=True)
                subprocess.run(command, check=True)
                write_json(path, json.loads((work_dir / 'runs' / f'{args.preset}_seed{seed}.json').read_text()))
            runs.append(json.loads(path.read_text()))
        quality = [r['curve'][str(args.iters)][args.val] for r in runs]
        rows[size] = {'seeds': args.seeds, **mean_sd('segm_AP', [q['segm_AP'] for q in quality]),
                      **mean_sd('segm_AP_occluded', [q['segm_AP_occluded'] for q in quality]),
                      **mean_sd('unet_iou', [q['unet_iou'] for q in quality]), **unet_cost(args.preset, size, args.threads)}
    results = {'command': 'python tools/bench_working_size.py ' + ' '.join(argv if argv is not None else sys.argv[1:]),
               'preset': args.preset, 'iters': args.iters, 'batch_size': args.batch_size, 'max_rois': args.max_rois, 'peopleseg_iters': args.peopleseg_iters,
               'val': args.val, 'threads': args.threads, 'sizes': rows}
    write_json(out_dir / 'summary.json', results)
    print_table(results)
    return results


def print_table(results: dict) -> None:
    print(f'\nworking size vs quality ({results["preset"]}, GT boxes on {results["val"]}; UNet {results["peopleseg_iters"]}'
          f' + head {results["iters"]} iterations per run) and UNet cost (PyTorch CPU, {results["threads"]} threads)')
    header = (f'{"size":>5} {"seeds":>5} {"mask AP":>14} {"AP occl.":>14} {"UNet IoU":>14} '
              + ' '.join(f'{f"GMAC {h}x{w}":>15} {f"ms {h}x{w}":>13}' for h, w in FRAMES))
    print(header)
    print('-' * len(header))
    for size, r in results['sizes'].items():
        cells = [f'{100 * r["segm_AP"]:.1f} +- {100 * r["segm_AP_sd"]:.1f}',
                 f'{100 * r["segm_AP_occluded"]:.1f} +- {100 * r["segm_AP_occluded_sd"]:.1f}',
                 f'{r["unet_iou"]:.3f} +- {r["unet_iou_sd"]:.3f}']
        cost = ' '.join(f'{r[f"gmac_{h}x{w}"]:>15.2f} {r[f"ms_{h}x{w}"]:>13.0f}' for h, w in FRAMES)
        print(f'{size:>5} {len(r["seeds"]):>5} {cells[0]:>14} {cells[1]:>14} {cells[2]:>14} {cost}')


if __name__ == '__main__':
    main(sys.argv[1:])
