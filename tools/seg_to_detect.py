#!/usr/bin/env python
"""Writes a YOLO segmentation checkpoint's detection part (same boxes and scores, no mask branch), the detector that
``rhis-yolo train rhis_mode=frozen`` takes to train RHIS under a YOLO-seg model's own boxes:

    python tools/seg_to_detect.py runs/segment/yolo11n_seg/weights/best.pt runs/segment/yolo11n_seg/weights/detect.pt
"""
import argparse
import sys

from rhis_plugin.ultralytics import segment_to_detect


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0].split(':')[0])
    parser.add_argument('source', help='YOLO segmentation checkpoint (.pt)')
    parser.add_argument('target', help='detection checkpoint to write (.pt)')
    args = parser.parse_args(argv)
    try:
        print(f'wrote {segment_to_detect(args.source, args.target)}')
    except (FileNotFoundError, ValueError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
