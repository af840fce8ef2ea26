#!/usr/bin/env python
"""Box and mask AP (mAP50-95, mAP50) of an Ultralytics detector + RHIS on a person dataset's val split.

    python tools/val_rhis_ultralytics.py --model yolo11n.pt --rhis work_dirs/rhis_yolo/rhis.pth --data data.yaml
"""
import argparse
import sys
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--model', required=True, help='detector .pt/.yaml')
    parser.add_argument('--rhis', required=True, help='RHIS checkpoint')
    parser.add_argument('--data', required=True, help='Ultralytics data.yaml or COCO folder')
    parser.add_argument('--split', default='val')
    parser.add_argument('--imgsz', type=int, default=640)
    parser.add_argument('--conf', type=float, default=0.001)
    args = parser.parse_args()
    from ultralytics import RTDETR, YOLO

    from rhis_plugin.ultralytics import evaluate_mask_ap, load_person_dataset
    try:
        dataset = load_person_dataset(args.data, args.split, None)
        detector = (RTDETR if 'rtdetr' in Path(args.model).stem.lower() else YOLO)(args.model)
        metrics = evaluate_mask_ap(detector, dataset, conf=args.conf, imgsz=args.imgsz, weights=args.rhis)
    except (FileNotFoundError, ValueError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 2
    print('  '.join(f'{k}: {v:.4f}' for k, v in metrics.items()))
    return 0


if __name__ == '__main__':
    sys.exit(main())
