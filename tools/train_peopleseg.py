#!/usr/bin/env python
"""Trains the people-seg UNet (RHIS stage 1) on COCO person folders, framework-free, and scores it on val folders.

Stage 1 of three: this UNet, then the RHIS head on top of it (tools/train_rhis.py --peopleseg), then detector + head.
The mmengine route to the same stage is configs/mmdet/peopleseg/. Folders are PATH or PATH:train / PATH:val (the
coco-val-fifth split of a folder without subfolders). The UNet is the default preset's (decoder widths and working
size) unless --decoder-channels / --working-size say otherwise: a UNet fits the presets with its decoder widths.

Example (synthetic data, a few CPU minutes):
    python tools/make_synthetic.py --out data/syn/train --num-images 120 --height 128 --width 128
    python tools/train_peopleseg.py --train data/syn/train --val data/syn/val --iters 100 --out work_dirs/unet.pth
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

from rhis_plugin.data import coco_person_dataset
from rhis_plugin.models import DEFAULT_PRESET, PEOPLESEG_ENCODERS, PeopleSegUNet, load_imagenet_weights, preset_config
from rhis_plugin.models.imagenet import imagenet_weights_name
from rhis_plugin.training import (LearningCurve, TrainConfig, add_train_arguments, evaluate_peopleseg,
                                  resume_options, train_peopleseg)

DEFAULT_UNET = preset_config(DEFAULT_PRESET)      # stage 1 trains the default preset's UNet unless told


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--train', nargs='+', required=True, help='COCO folders: PATH or PATH:train')
    parser.add_argument('--val', nargs='*', default=[], help='COCO folders to score on (original image sizes)')
    parser.add_argument('--sources', nargs='+', default=None,
                        help="train only on images whose 'source' starts with one of these (folders that have it)")
    parser.add_argument('--encoder', default='efficientnet_lite0',
                        help=f'UNet encoder: {", ".join(PEOPLESEG_ENCODERS)} or any smp encoder name')
    parser.add_argument('--pretrained', action='store_true',
                        help="start the encoder from ImageNet weights installed offline (the 'pretrained' extra)")
    parser.add_argument('--decoder-channels', type=int, nargs=5, default=list(DEFAULT_UNET.unet_decoder_channels),
                        metavar='C', help="the UNet decoder's widths, a preset's unet_decoder_channels (default: the "
                                          f"default preset's, {DEFAULT_PRESET}; rhis_lite0_64x48's: 256 128 64 32 16)")
    parser.add_argument('--working-size', type=int, default=DEFAULT_UNET.working_size,
                        help='train on images letterboxed to this square size (RHIS runs the UNet at it; default: the '
                             "default preset's)")
    add_train_arguments(parser, iters=600, lr=1e-3)
    parser.add_argument('--out', required=True, help='where to save the UNet (an smp state dict, .pth)')
    parser.add_argument('--metrics', help='write the metrics as JSON here')
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        resume = resume_options(args, args.out)
        train = coco_person_dataset(args.train, (args.working_size, args.working_size), sources=args.sources)
        vals = {spec: coco_person_dataset(spec) for spec in args.val}
    except (FileNotFoundError, ValueError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 2
    unet = PeopleSegUNet(args.encoder, frozen=False, decoder_channels=tuple(args.decoder_channels))
    if args.pretrained:
        name = imagenet_weights_name(unet.encoder_name)
        if name is None:
            print(f'error: no offline ImageNet weights for {unet.encoder_name}', file=sys.stderr)
            return 2
        load_imagenet_weights(unet, name)
    start = time.perf_counter()
    cfg = TrainConfig(iters=args.iters, batch_size=args.batch_size, lr=args.lr, seed=args.seed, log_every=50,
                      copy_paste=args.copy_paste, augment=args.augment, amp=args.amp, **resume)

    def score() -> dict:
        scores = {spec: evaluate_peopleseg(unet, dataset, device=args.device) for spec, dataset in vals.items()}
        unet.train()
        return {spec: {k: s[k] for k in ('iou', 'dice', 'precision', 'recall')} for spec, s in scores.items()}
    curve = LearningCurve(args.eval_at, score, args.metrics)
    history = train_peopleseg(unet, train, cfg, device=args.device, on_step=curve)
    metrics = {'encoder': unet.encoder_name, 'decoder_channels': list(unet.decoder_channels),
               'working_size': args.working_size, 'pretrained': args.pretrained, 'train_images': len(train),
               'iters': args.iters, 'augment': args.augment, 'copy_paste': args.copy_paste, 'amp': args.amp,
               'train_seconds': round(time.perf_counter() - start, 1),
               'final_loss': history[-1]['loss'] if history else float('nan'), 'val': score(), 'curve': curve.points}
    for spec, scores in metrics['val'].items():
        print(f"{spec}: people-seg IoU {scores['iou']:.3f}, Dice {scores['dice']:.3f}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    torch.save(unet.cpu().state_dict(), args.out)
    print(f'saved {args.out}')
    if args.metrics:
        Path(args.metrics).write_text(json.dumps(metrics, indent=2))
    return 0


if __name__ == '__main__':
    sys.exit(main())
