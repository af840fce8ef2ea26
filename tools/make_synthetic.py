#!/usr/bin/env python
"""Writes a synthetic COCO people-instance dataset: OUT/images/*.jpg and OUT/annotations.json."""
import argparse
import contextlib
import io
import sys
import time

import numpy as np
from pycocotools.coco import COCO

from rhis_plugin.data.occlusion import occlusion_by_annotation
from rhis_plugin.data.synthetic import SceneConfig, generate_dataset


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--num-images', type=int, default=200)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--height', type=int, default=SceneConfig.height)
    parser.add_argument('--width', type=int, default=SceneConfig.width)
    parser.add_argument('--min-persons', type=int, default=SceneConfig.min_persons)
    parser.add_argument('--max-persons', type=int, default=SceneConfig.max_persons)
    parser.add_argument('--format', choices=('jpg', 'png'), default='jpg')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    start = time.perf_counter()
    try:
        cfg = SceneConfig(height=args.height, width=args.width, min_persons=args.min_persons,
                          max_persons=args.max_persons)
        ann_file = generate_dataset(args.out, args.num_images, seed=args.seed, cfg=cfg, image_format=args.format)
    except ValueError as error:
        sys.exit(f'error: {error}')
    elapsed = time.perf_counter() - start
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools chatters on load
        coco = COCO(str(ann_file))
    fractions = np.array(list(occlusion_by_annotation(coco).values()))
    print(f'wrote {args.num_images} images and {ann_file} in {elapsed:.1f}s: {len(fractions)} persons, '
          f'{np.mean(fractions > 0):.0%} with another person inside their box')


if __name__ == '__main__':
    main()
