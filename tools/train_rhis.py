#!/usr/bin/env python
"""Trains an RHIS head on GT boxes (with jitter) from a COCO folder and reports target IoU on a val folder.

Example (synthetic data, a few CPU minutes):
    python tools/make_synthetic.py --out data/syn/train --num-images 120 --height 128 --width 128
    python tools/make_synthetic.py --out data/syn/val --num-images 30 --height 128 --width 128 --seed 1
    python tools/train_rhis.py --train data/syn/train --val data/syn/val --iters 150 --out work_dirs/rhis.pth
"""
import argparse
import json
import sys

import torch

from rhis_plugin.data.coco_dataset import CocoPersonDataset
from rhis_plugin.models import build_rhis, list_presets, save_rhis
from rhis_plugin.training import TrainConfig, evaluate_target_iou, train_rhis


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--train', required=True, help='COCO folder (annotations.json + images/)')
    parser.add_argument('--val', required=True, help='COCO folder for evaluation')
    parser.add_argument('--preset', default='rhis_b0_64x48', choices=list_presets())
    parser.add_argument('--image-size', type=int, nargs=2, metavar=('H', 'W'), default=None,
                        help='letterbox images to this size (required when image sizes differ)')
    parser.add_argument('--iters', type=int, default=300)
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--lr', type=float, default=5e-3)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--out', default=None, help='where to save the trained model (.pth)')
    parser.add_argument('--metrics', default=None, help='write the final metrics as JSON here')
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    try:
        train = CocoPersonDataset(args.train, image_size=args.image_size)
        val = CocoPersonDataset(args.val, image_size=args.image_size)
    except (FileNotFoundError, ValueError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 2
    model = build_rhis(args.preset)
    cfg = TrainConfig(iters=args.iters, batch_size=args.batch_size, lr=args.lr, seed=args.seed)
    history = train_rhis(model, train, cfg, device=args.device)
    metrics = evaluate_target_iou(model, val, device=args.device)
    metrics['final_loss'] = history[-1]['loss'] if history else float('nan')
    print(f"val target IoU {metrics['target_iou']:.4f} (box filled {metrics['box_filled_iou']:.4f}) "
          f"on {metrics['num_rois']} ROIs")
    if args.out:
        print(f'saved {save_rhis(model.cpu(), args.out, preset=args.preset, iters=args.iters, **metrics)}')
    if args.metrics:
        with open(args.metrics, 'w') as f:
            json.dump(metrics, f, indent=2)
    return 0


if __name__ == '__main__':
    sys.exit(main())
