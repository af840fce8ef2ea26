#!/usr/bin/env python
"""Merges COCO person folders (each PATH or PATH:train|val) into one folder (annotations.json + images/), e.g. the
training set that YOLO, Mask R-CNN and the RHIS benchmarks share:

    python tools/merge_coco.py --data ../shared/data/pennfudan/train ../shared/data/coco_person_train:train \
        --out data/people/train --drop-crowd-images
"""
import argparse
import sys

from rhis_plugin.data import merge_coco_folders


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--data', nargs='+', required=True, help='COCO person folders, each PATH or PATH:train|val')
    parser.add_argument('--out', required=True, help='folder to write (annotations.json + images/)')
    parser.add_argument('--drop-crowd-images', action='store_true',
                        help='leave out images with crowd regions (formats such as YOLO cannot carry them)')
    parser.add_argument('--copy-images', action='store_true', help='copy images instead of symlinking them')
    args = parser.parse_args(argv)
    try:
        counts = merge_coco_folders(args.data, args.out, args.drop_crowd_images, args.copy_images)
    except (FileNotFoundError, ValueError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 2
    print(f"wrote {args.out}: {counts['images']} images, {counts['persons']} persons"
          f" ({counts['dropped_images']} images with crowd regions left out)")
    return 0


if __name__ == '__main__':
    sys.exit(main())
