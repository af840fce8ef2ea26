#!/usr/bin/env python
"""Mask branches on the same boxes: a detector's own masks (a YOLO-seg model's prototypes, Mask R-CNN's FCN branch)
against RHIS masks on that detector's boxes, on COCO person folders, every RHIS row mean +- sd over its checkpoints.

    python tools/bench_same_boxes.py --name yolo11n_seg --detector runs/segment/yolo11n_seg/weights/best.pt \
        --rhis rhis_imagenet=work_dirs/heads/rhis_lite0_64x48_seed0.pth,...seed1.pth,...seed2.pth \
        --val ../shared/data/pennfudan/val ../shared/data/coco_person_train:val --out-dir docs/results/same_boxes

What is the same for every row: the detector's boxes and scores (one adapter, ``--conf``, Ultralytics' own NMS and
``max_det`` or mmdet's ``test_cfg``), the exclusivity rule (each pixel to the highest-scoring instance; RHIS's paste
and :func:`rhis_plugin.postprocess.exclusive_masks` for the detector's masks), and the scoring (``rhis eval``'s
protocol: pycocotools at the original image size, crowd regions ignored, the occluded subset with the other persons as
ignore regions). The detector's masks are its most precise ones (Ultralytics ``retina_masks=True``; mmdet pastes at
the original size). Latency: PyTorch on this machine's CPU (``--threads``), median per image over
``--latency-images`` val images, detector included, measured after the evaluations; run it alone on the machine.

Each (row, checkpoint) writes ``<out-dir>/<name>/runs/<row>_<k>.json`` (a re-run skips finished ones);
``<out-dir>/<name>/summary.json`` holds mean +- sd; ``--plot`` draws mask AP against latency for every
``<out-dir>/*/summary.json``.
"""
from __future__ import annotations

import argparse
import json
import shlex
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

from rhis_plugin.data import datasets_by_spec
from rhis_plugin.deploy import RHISBackend, evaluate_rhis
from rhis_plugin.deploy.detectors import load_detector
from rhis_plugin.postprocess import PostprocessConfig, exclusive_masks
from rhis_plugin.utils.benchmark import machine_description, mean_sd, write_json

OWN = 'own_masks'
METRICS = ('segm_AP', 'segm_AP50', 'segm_AP75', 'segm_AP_occluded', 'bbox_AP')


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--name', required=True, help='this detector\'s folder under --out-dir')
    parser.add_argument('--detector', required=True, help='as for rhis eval: .pt (Ultralytics), .py (mmdet config)')
    parser.add_argument('--detector-checkpoint', help='mmdet checkpoint')
    parser.add_argument('--label', help='the detector\'s name in tables and plots (default: --name)')
    parser.add_argument('--rhis', nargs='*', default=[], metavar='ROW=CKPT[,CKPT...]',
                        help='RHIS rows: a name and its checkpoints (seeds), e.g. rhis=a.pth,b.pth,c.pth')
    parser.add_argument('--val', nargs='+', required=True,
                        help='val folders, scored one by one; PATH[:split][#SOURCE] keeps the images whose source '
                             'starts with SOURCE')
    parser.add_argument('--conf', type=float, default=0.05, help='detector score threshold (every row)')
    parser.add_argument('--latency-images', type=int, default=20)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--out-dir', default='docs/results/same_boxes')
    parser.add_argument('--plot', help='write a mask-AP-vs-latency plot (PNG) of every summary under --out-dir')
    args = parser.parse_args(argv)
    args.rows = {}
    for spec in args.rhis:
        row, sep, paths = spec.partition('=')
        if not sep or not row or row == OWN or not paths:
            raise SystemExit(f'--rhis wants ROW=CKPT[,CKPT...] (ROW not {OWN!r}), got {spec!r}')
        args.rows[row] = paths.split(',')
    return args


def run_row(args: argparse.Namespace, row: str, checkpoint: str | None, vals: dict, path: Path) -> dict:
    """One row with one checkpoint (``None``: the detector's own masks) on every val set; writes ``path``."""
    own = checkpoint is None
    detector = load_detector(args.detector, args.detector_checkpoint, args.conf, device=args.device, masks=own)
    backend = None if own else RHISBackend(checkpoint, args.device)
    record = {'row': row, 'checkpoint': checkpoint, 'detector': args.detector, 'conf': args.conf, 'metrics': {}}
    for name, dataset in vals.items():
        record['metrics'][name] = evaluate_rhis(backend, dataset, detector, detector_masks=own)
        print(f"{row} {checkpoint or ''} on {name}: mask AP {100 * record['metrics'][name]['segm_AP']:.1f}",
              flush=True)
    write_json(path, record)
    return record


def latency_ms(args: argparse.Namespace, checkpoint: str | None, dataset) -> float:
    """Median CPU time per image of boxes + masks (the detector's own or RHIS's, pasted at the original size)."""
    own = checkpoint is None
    detector = load_detector(args.detector, args.detector_checkpoint, args.conf, device=args.device, masks=own)
    backend = None if own else RHISBackend(checkpoint, args.device)
    config = PostprocessConfig()

    def segment(image: np.ndarray) -> None:
        dets = detector(image)
        if own:
            exclusive_masks(dets.masks, dets.scores)
        elif len(dets.scores):
            backend.roi_masks(image, dets.boxes, dets.scores).paste(config)

    images = [(dataset[i]['image'].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
              for i in range(min(args.latency_images, len(dataset)))]
    segment(images[0])
    times = []
    for image in images:
        start = time.perf_counter()
        segment(np.ascontiguousarray(image))
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times)


def summarise(rows: dict[str, list[dict]], latency: dict[str, float]) -> dict:
    summary = {}
    for row, runs in rows.items():
        cells = {}
        for val in runs[0]['metrics']:
            metrics = [r['metrics'][val] for r in runs]
            cell = {}
            for key in METRICS:
                cell.update(mean_sd(key, [m[key] for m in metrics]))
            cell.update(instances=metrics[0]['instances'], occluded_instances=metrics[0]['occluded_instances'])
            cells[val] = cell
        summary[row] = {'checkpoints': [r['checkpoint'] for r in runs], 'latency_ms': latency[row], 'val': cells}
    return summary


def print_table(label: str, summary: dict, vals: list[str]) -> None:
    for val in vals:
        print(f'\n{label} boxes, {val} (pycocotools at original size, %, mean +- sd over checkpoints)')
        print('| masks | checkpoints | mask AP | AP50 | AP75 | AP occl. | box AP | CPU ms / image |')
        print('|---|---|---|---|---|---|---|---|')
        for row, entry in summary.items():
            c = entry['val'][val]
            cell = lambda key: f"{100 * c[key]:.1f} +- {100 * c[key + '_sd']:.1f}"  # noqa: E731
            print(f"| {row} | {len(entry['checkpoints'])} | {cell('segm_AP')} | {cell('segm_AP50')} | "
                  f"{cell('segm_AP75')} | {cell('segm_AP_occluded')} | {100 * c['bbox_AP']:.1f} | "
                  f"{entry['latency_ms']:.0f} |")
        c = next(iter(summary.values()))['val'][val]
        print(f"({c['instances']} persons, {c['occluded_instances']} occluded)")


def plot(out_dir: Path, path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    summaries = [json.loads(p.read_text()) for p in sorted(out_dir.glob('*/summary.json'))]
    vals = summaries[0]['val'][:2]
    fig, axes = plt.subplots(1, len(vals), figsize=(6.0 * len(vals), 4.4), dpi=120, squeeze=False)
    for ax, val in zip(axes[0], vals):
        for summary, marker in zip(summaries, 'osD^v'):
            for row, entry in summary['rows'].items():
                c = entry['val'][val]
                x, y = entry['latency_ms'], 100 * c['segm_AP']
                name = f"{summary['label']}: {'own masks' if row == OWN else row}"
                ax.errorbar(x, y, yerr=100 * c['segm_AP_sd'], fmt=marker, capsize=3,
                            color='tab:gray' if row == OWN else None)
                ax.annotate(name, (x, y), fontsize=6.5, xytext=(4, 3), textcoords='offset points')
        ax.set_xscale('log')
        ax.set_xlabel('PyTorch CPU latency per image, boxes + masks (ms)')
        ax.set_ylabel('mask AP, detector boxes (%)')
        ax.set_title(val, fontsize=9)
        ax.grid(True, which='both', alpha=0.3)
    fig.suptitle('Same boxes: the detector\'s own masks (gray) vs RHIS on its boxes; detectors from scratch',
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(path)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    out_dir = Path(args.out_dir) / args.name
    vals = datasets_by_spec(args.val)
    plan = {OWN: [None], **args.rows}
    rows: dict[str, list[dict]] = {}
    for row, checkpoints in plan.items():
        for k, checkpoint in enumerate(checkpoints):
            path = out_dir / 'runs' / f'{row}_{k}.json'
            done = json.loads(path.read_text()) if path.is_file() else {}
            if done.get('checkpoint') != checkpoint or set(done.get('metrics', {})) != set(vals):
                print(f'== {row} {checkpoint or args.detector}', flush=True)
                done = run_row(args, row, checkpoint, vals, path)
            rows.setdefault(row, []).append(done)
    first = next(iter(vals.values()))
    latency = {row: latency_ms(args, checkpoints[0], first) for row, checkpoints in plan.items()}
    summary = {'command': 'python tools/bench_same_boxes.py ' + shlex.join(argv if argv is not None else sys.argv[1:]),
               'label': args.label or args.name, 'detector': args.detector, 'conf': args.conf, 'val': args.val,
               'latency_machine': machine_description(), 'threads': args.threads,
               'rows': summarise(rows, latency)}
    write_json(out_dir / 'summary.json', summary)
    print_table(summary['label'], summary['rows'], args.val)
    if args.plot:
        Path(args.plot).parent.mkdir(parents=True, exist_ok=True)
        plot(Path(args.out_dir), args.plot)
    return summary


if __name__ == '__main__':
    main(sys.argv[1:])
