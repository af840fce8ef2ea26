#!/usr/bin/env python
"""Trains an RHIS head on GT boxes (with jitter) from COCO folders, on a trained people-seg UNet, and scores it.

Stage 2 of three: the people-seg UNet first (tools/train_peopleseg.py, or the starter model's: --peopleseg starter),
then this head, then detector + head. Folders are PATH or PATH:train / PATH:val (the coco-val-fifth split).
Each --val folder is scored as `rhis eval` scores it (rhis_plugin.deploy.evaluate_rhis, GT boxes, original sizes):
mask AP, the reference's ROI target IoU, the UNet's person IoU.

Example (synthetic data, a few CPU minutes):
    python tools/make_synthetic.py --out data/syn/train --num-images 120 --height 128 --width 128
    python tools/make_synthetic.py --out data/syn/val --num-images 30 --height 128 --width 128 --seed 1
    python tools/train_rhis.py --train data/syn/train --val data/syn/val --iters 150 --out work_dirs/rhis.pth
    python tools/train_rhis.py --init starter --train data/syn/train --val data/syn/val --iters 100 --lr 1e-3 \
        --out work_dirs/rhis_finetuned.pth      # fine-tune the bundled starter model on your data
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

from rhis_plugin.data import coco_person_dataset
from rhis_plugin.models import (DEFAULT_PRESET, RandomWeightsError, build_rhis, list_presets, preset_config,
                                preset_of_config, rhis_from_weights, save_rhis)
from rhis_plugin.deploy import RHISBackend, evaluate_rhis
from rhis_plugin.training import LearningCurve, TrainConfig, add_train_arguments, resume_options, train_rhis


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--train', nargs='+', required=True, help='COCO folders: PATH or PATH:train')
    parser.add_argument('--val', nargs='+', required=True, help='COCO folders to score on: PATH or PATH:val')
    parser.add_argument('--sources', nargs='+', default=None,
                        help="train only on images whose 'source' starts with one of these (folders that have it)")
    parser.add_argument('--preset', default=None, choices=list_presets(),
                        help=f'the architecture (default {DEFAULT_PRESET}; with --init, the checkpoint\'s)')
    parser.add_argument('--init', default=None,
                        help="fine-tune from a whole model: 'starter' (the bundled model) or an RHIS checkpoint "
                             '(save_rhis, a joint Ultralytics rhis.pth, an mmdet RHIS checkpoint); its UNet too '
                             'unless --peopleseg says otherwise')
    parser.add_argument('--peopleseg', default=None,
                        help="people-seg UNet weights: a stage-1 checkpoint, 'starter' (the bundled model's UNet, "
                             "lite0 presets; the default without --init) or 'random' (a random frozen UNet, on "
                             'purpose)')
    parser.add_argument('--pretrained', action='store_true',
                        help='start the ROI encoder from ImageNet weights installed offline (lite presets). The '
                             "people-seg UNet keeps the --peopleseg weights: ImageNet reaches its encoder only under "
                             "--peopleseg random")
    parser.add_argument('--image-size', type=int, nargs=2, metavar=('H', 'W'), default=None,
                        help='letterbox training images to this size (required when image sizes differ)')
    add_train_arguments(parser, iters=300, lr=5e-3)
    parser.add_argument('--out', default=None, help='where to save the trained model (.pth)')
    parser.add_argument('--half', action='store_true', help='save float16 weights (half the file size)')
    parser.add_argument('--metrics', default=None, help='write the final metrics as JSON here')
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        train = coco_person_dataset(args.train, args.image_size, sources=args.sources)
        vals = {spec: coco_person_dataset(spec) for spec in args.val}
        resume = resume_options(args, args.out)
        if args.init:
            if args.pretrained:
                raise ValueError('--init starts from trained weights: --pretrained (ImageNet) would overwrite them')
            model = rhis_from_weights(args.init, allow_random=args.peopleseg == 'random', source='train_rhis --init',
                                      peopleseg=None if args.peopleseg in (None, 'random') else args.peopleseg,
                                      aux_heads=True)
            if args.preset is not None and model.cfg != preset_config(args.preset, aux_heads=model.cfg.aux_heads):
                raise ValueError(f'--init {args.init} is not a {args.preset} model; leave --preset out to keep its own')
        else:
            # ImageNet first, then the stage-1 UNet over it: the trained UNet is never overwritten.
            model = build_rhis(args.preset or DEFAULT_PRESET, pretrained=args.pretrained,
                               peopleseg_weights=args.peopleseg or 'starter')
    except (FileNotFoundError, ValueError, RandomWeightsError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 2
    cfg = TrainConfig(iters=args.iters, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                      copy_paste=args.copy_paste, augment=args.augment, amp=args.amp, **resume)
    start = time.perf_counter()

    def score() -> dict:
        backend = RHISBackend.from_model(model, args.device)
        scores = {spec: evaluate_rhis(backend, dataset) for spec, dataset in vals.items()}
        model.train()
        return scores
    curve = LearningCurve(args.eval_at, score, args.metrics)
    history = train_rhis(model, train, cfg, device=args.device, on_step=curve)
    preset = args.preset or (preset_of_config(model.cfg) or 'custom' if args.init else DEFAULT_PRESET)
    metrics = {'preset': preset, 'init': args.init,
               'peopleseg': str(args.peopleseg or ('init' if args.init else 'starter')), 'pretrained': args.pretrained,
               'train_images': len(train), 'iters': args.iters,
               'augment': args.augment, 'copy_paste': args.copy_paste, 'amp': args.amp,
               'train_seconds': round(time.perf_counter() - start, 1),
               'final_loss': history[-1]['loss'] if history else float('nan'), 'val': score(), 'curve': curve.points}
    for spec, scores in metrics['val'].items():
        print(f"{spec}: mask AP {100 * scores['segm_AP']:.1f} (GT boxes), target IoU {scores['target_iou']:.4f} "
              f"(box filled {scores['box_filled_iou']:.4f}), UNet IoU {scores['unet_iou']:.3f} on "
              f"{scores['instances']} persons")
    if args.out:
        path = save_rhis(model.cpu(), args.out, half=args.half, preset=preset, iters=args.iters,
                         train=args.train, sources=args.sources, init=args.init)
        print(f'saved {path}')
    if args.metrics:
        Path(args.metrics).parent.mkdir(parents=True, exist_ok=True)
        Path(args.metrics).write_text(json.dumps(metrics, indent=2))
    return 0


if __name__ == '__main__':
    sys.exit(main())
