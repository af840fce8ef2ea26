#!/usr/bin/env python
"""Converts COCO person folders (<coco>/{train,val}/annotations.json + images/) into an Ultralytics segmentation
dataset: <out>/images/<split>/, <out>/labels/<split>/ (polygons) and <out>/data.yaml."""
import argparse
import sys

from rhis_plugin.ultralytics import coco_to_yolo_seg


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--coco', required=True, help='folder with train/ and val/ COCO folders')
    parser.add_argument('--out', required=True)
    parser.add_argument('--splits', nargs='+', default=['train', 'val'])
    parser.add_argument('--copy-images', action='store_true', help='copy images instead of symlinking them')
    args = parser.parse_args()
    try:
        data_yaml = coco_to_yolo_seg(args.coco, args.out, tuple(args.splits), args.copy_images)
    except (FileNotFoundError, ValueError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 2
    print(f'wrote {data_yaml}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
