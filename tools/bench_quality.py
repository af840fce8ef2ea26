#!/usr/bin/env python
"""Mask quality of RHIS against the reference architecture and standard heads, trained and scored side by side.

    python tools/bench_quality.py --train ../shared/data/pennfudan/train --val ../shared/data/pennfudan/val \
        --iters 400 --out quality.json --plot ap_vs_latency.png

1. People-seg UNets (one per UNet encoder the contenders use) are trained on the train set, or loaded with
   ``--peopleseg-checkpoint ENCODER=PATH``; every contender uses the same frozen UNet.
2. Each trainable contender trains with the same budget (``--iters`` or ``--minutes``), data, box jitter and seed.
3. On the val set with GT boxes: COCO mask AP / AP50 / AP75 (pycocotools, original image size, after
   paste-back), AP on the occluded subset (persons whose box holds >= 10 % of another person's pixels), the
   reference's target IoU (ROI space), and PyTorch latency for 10 ROIs on a 480x640 image (on ``--device``:
   the GPU when there is one).

Contenders: rhis_b0_64x48, rhis_b1_80x60 (ours), upstream_b0_64x48 (reference architecture), fcn_b0_14x14
(Mask R-CNN FCN mask head on the same ROI inputs), unet_in_box_b0 and box_filled (no head training).
``--pretrained NAME=PATH`` loads local ImageNet weights for ROI encoders (e.g. efficientnet_b0=b0.pth).
"""
from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

import torch

from rhis_plugin.data.coco_dataset import CocoPersonDataset
from rhis_plugin.losses import RHISLoss, TargetMaskLoss
from rhis_plugin.models import PeopleSegUNet, build_rhis, load_peopleseg_weights, load_roi_encoder_weights
from rhis_plugin.models.rhis import RHIS
from rhis_plugin.training import (OCCLUDED, TrainConfig, evaluate_peopleseg, evaluate_target_iou, mask_ap_on_gt_boxes,
                                  train_peopleseg, train_rhis)
from rhis_plugin.utils.benchmark import median_latency, write_json

CONTENDERS = ['rhis_b0_64x48', 'rhis_b1_80x60', 'upstream_b0_64x48', 'fcn_b0_14x14', 'unet_in_box_b0', 'box_filled']
UNTRAINED = {'unet_in_box', 'box_filled'}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--train', required=True, help='COCO-format folder (annotations.json + images/)')
    parser.add_argument('--val', required=True)
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument('--iters', type=int, default=300, help='training iterations per contender')
    budget.add_argument('--minutes', type=float, help='training time per contender instead of iterations')
    parser.add_argument('--peopleseg-iters', type=int, default=300, help='iterations for each people-seg UNet')
    parser.add_argument('--peopleseg-checkpoint', nargs='*', default=[], metavar='ENCODER=PATH',
                        help='trained people-seg UNets (PeopleSegmentor checkpoints or smp state dicts), e.g. '
                             'timm-efficientnet-b0=work_dirs/unet_b0/epoch_50.pth')
    parser.add_argument('--pretrained', nargs='*', default=[], metavar='NAME=PATH',
                        help='local ImageNet weights for ROI encoders, e.g. efficientnet_b0=b0.pth')
    parser.add_argument('--contenders', nargs='+', default=CONTENDERS, choices=CONTENDERS)
    parser.add_argument('--image-size', type=int, default=384, help='training letterbox size (square)')
    parser.add_argument('--working-size', type=int,
                        help="every contender's people-seg working size (default: each preset's); the UNets then "
                             'train on the train set letterboxed to it, the geometry they run at')
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--lr', type=float, default=2e-3)
    parser.add_argument('--max-rois', type=int, default=8, help='training ROIs per image')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--threads', type=int, default=2, help='CPU threads (training and latency)')
    parser.add_argument('--latency-size', type=int, nargs=2, default=(480, 640), metavar=('H', 'W'),
                        help='image size of the latency measurement (10 ROIs)')
    parser.add_argument('--work-dir', default='work_dirs/bench_quality', help='trained UNets are saved here')
    parser.add_argument('--out', help='write the results as JSON here')
    parser.add_argument('--plot', help='write a mask-AP-vs-latency plot (PNG) here')
    return parser.parse_args(argv)


def pairs(entries: list[str], what: str) -> dict[str, str]:
    out = {}
    for entry in entries:
        if '=' not in entry:
            raise SystemExit(f'{what} entries look like NAME=PATH, got {entry!r}')
        name, path = entry.split('=', 1)
        if not Path(path).is_file():
            raise SystemExit(f'{what}: no file at {path}')
        out[name] = path
    return out


def latency_ms(model: RHIS, size: tuple[int, int], device: str = 'cpu', rois: int = 10) -> float:
    images = torch.rand(1, 3, *size, device=device)
    x1 = torch.linspace(0.0, 0.7, rois)
    boxes = torch.stack([torch.zeros(rois), x1, torch.full((rois,), 0.2), x1 + 0.25, torch.full((rois,), 0.9)], 1)
    model.eval()
    sync = torch.cuda.synchronize if str(device).startswith('cuda') else None
    with torch.inference_mode():
        return 1000 * median_latency(lambda: model(images, boxes.to(device)), warmup=1, repeats=5, sync=sync)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    unet_checkpoints = pairs(args.peopleseg_checkpoint, '--peopleseg-checkpoint')
    pretrained = pairs(args.pretrained, '--pretrained')
    work_dir = Path(args.work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    size = (args.image_size, args.image_size)
    train_set = CocoPersonDataset(args.train, image_size=size)
    options = {} if args.working_size is None else {'working_size': args.working_size}
    unet_size = build_rhis(args.contenders[0], **options).cfg.working_size
    unet_train_set = (CocoPersonDataset(args.train, image_size=(unet_size, unet_size)) if unet_size else train_set)
    val_set = CocoPersonDataset(args.val)                      # original sizes: AP in image space
    val_letterboxed = CocoPersonDataset(args.val, image_size=size)
    budget = (TrainConfig(iters=10 ** 9, max_seconds=args.minutes * 60) if args.minutes
              else TrainConfig(iters=args.iters))
    common = dict(batch_size=args.batch_size, lr=args.lr, max_rois_per_image=args.max_rois, seed=args.seed,
                  log_every=50)
    results: dict = {'command': 'python tools/bench_quality.py ' + shlex.join(argv if argv is not None
                                                                              else sys.argv[1:]),
                     'train': args.train, 'val': args.val, 'budget': f'{args.minutes} min' if args.minutes
                     else f'{args.iters} iters', 'image_size': args.image_size, 'working_size': unet_size,
                     'threads': args.threads, 'device': args.device,
                     'latency_size': list(args.latency_size), 'peopleseg': {}, 'contenders': {}}

    # 1. One trained people-seg UNet per encoder, shared by every contender that uses it.
    unets: dict[str, dict] = {}
    for name in args.contenders:
        encoder = build_rhis(name, **options).cfg.unet_encoder
        if encoder in unets:
            continue
        unet = PeopleSegUNet(encoder, frozen=False)
        start = time.perf_counter()
        if encoder in unet_checkpoints:
            load_peopleseg_weights(unet, unet_checkpoints[encoder])
        else:
            print(f'== people-seg UNet {encoder}: {args.peopleseg_iters} iterations')
            train_peopleseg(unet, unet_train_set, TrainConfig(iters=args.peopleseg_iters, lr=1e-3, batch_size=args.batch_size,
                                                         seed=args.seed, log_every=50), device=args.device)
            torch.save(unet.state_dict(), work_dir / f'peopleseg_{encoder}.pth')
        metrics = evaluate_peopleseg(unet, val_set, device=args.device)
        results['peopleseg'][encoder] = {'seconds': round(time.perf_counter() - start, 1),
                                         **{k: metrics[k] for k in ('iou', 'dice', 'precision', 'recall')}}
        unets[encoder] = {k: v.cpu() for k, v in unet.state_dict().items()}

    # 2-3. Train and score every contender.
    for name in args.contenders:
        print(f'== {name}')
        model = build_rhis(name, **options)
        model.peopleseg.load_state_dict(unets[model.cfg.unet_encoder])
        if hasattr(model, 'roi_encoder') and model.cfg.roi_encoder in pretrained:
            load_roi_encoder_weights(model.roi_encoder, pretrained[model.cfg.roi_encoder])
        row: dict = {'iters': 0, 'train_seconds': 0.0}
        if model.cfg.architecture not in UNTRAINED:
            loss = TargetMaskLoss() if model.cfg.architecture == 'fcn' else RHISLoss()
            start = time.perf_counter()
            history = train_rhis(model, train_set, TrainConfig(**{**budget.__dict__, **common}), loss_fn=loss,
                                 device=args.device)
            row.update(iters=history[-1]['iter'] if history else 0,
                       train_seconds=round(time.perf_counter() - start, 1))
        model.to(args.device)
        row.update(mask_ap_on_gt_boxes(model, val_set, args.device))
        row['target_iou'] = evaluate_target_iou(model, val_letterboxed, device=args.device)['target_iou']
        row['latency_ms_10_rois'] = latency_ms(model, tuple(args.latency_size), args.device)
        results['contenders'][name] = row
        print({k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()})

    print_table(results)
    if args.out:
        write_json(args.out, results)
    if args.plot:
        Path(args.plot).parent.mkdir(parents=True, exist_ok=True)
        plot(results, args.plot)
    return results


def print_table(results: dict) -> None:
    print(f'\nGT-box mask quality on {results["val"]}; budget {results["budget"]} per contender, '
          f'train letterbox {results["image_size"]}, {results["threads"]} CPU threads')
    for encoder, m in results['peopleseg'].items():
        print(f'people-seg UNet {encoder}: IoU {m["iou"]:.3f}, Dice {m["dice"]:.3f}')
    header = (f'{"contender":<18} {"iters":>6} {"train s":>8} {"mask AP":>8} {"AP50":>6} {"AP75":>6} '
              f'{"AP occl.":>8} {"target IoU":>10} {"ms@10 ROIs":>10}')
    print(f'(latency: PyTorch on {results["device"]}, whole model, 10 ROIs on a {results["latency_size"][0]}x{results["latency_size"][1]} '
          'image; tools/bench_speed.py measures speed properly)')
    print(header)
    print('-' * len(header))
    for name, r in results['contenders'].items():
        print(f'{name:<18} {r["iters"]:>6} {r["train_seconds"]:>8.0f} {100 * r["segm_AP"]:>8.1f} '
              f'{100 * r["segm_AP50"]:>6.1f} {100 * r["segm_AP75"]:>6.1f} {100 * r["segm_AP_occluded"]:>8.1f} '
              f'{r["target_iou"]:>10.3f} {r["latency_ms_10_rois"]:>10.0f}')
    occluded = next(iter(results['contenders'].values()))['occluded_instances']
    print(f'(occluded subset: {occluded} persons with >= {OCCLUDED:.0%} of another person inside their box)')


def plot(results: dict, path: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=120)
    for name, r in results['contenders'].items():
        ax.scatter(r['latency_ms_10_rois'], 100 * r['segm_AP'], s=40)
        ax.annotate(name, (r['latency_ms_10_rois'], 100 * r['segm_AP']), fontsize=7, xytext=(4, 4),
                    textcoords='offset points')
    ax.set_xscale('log')
    height, width = results['latency_size']
    ax.set_xlabel(f'PyTorch latency ({results["device"]}), 10 ROIs on {height}x{width} (ms)')
    ax.set_ylabel('mask AP on GT boxes')
    ax.set_title(f'{Path(results["val"]).as_posix()} ({results["budget"]} per contender)', fontsize=9)
    ax.grid(True, which='both', alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)


if __name__ == '__main__':
    main(sys.argv[1:])
