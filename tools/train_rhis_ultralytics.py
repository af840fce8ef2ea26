#!/usr/bin/env python
"""Trains an RHIS head with an Ultralytics detector, frozen or jointly (the config's ``mode``).

    python tools/train_rhis_ultralytics.py --config configs/ultralytics/rhis_frozen.yaml iters=500 model=yolo11n.pt
    python tools/train_rhis_ultralytics.py --config configs/ultralytics/rhis_joint.yaml epochs=50

Frozen: the head trains on GT boxes (jittered) and the detector's matched boxes, then mask AP of detector + RHIS
is reported on val. Joint: Ultralytics trains the detector with the RHIS loss added; the head is saved beside
the detector weights as rhis.pth.
"""
import argparse
import sys
from pathlib import Path

import yaml


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--config', required=True, help='a YAML file like configs/ultralytics/rhis_frozen.yaml')
    parser.add_argument('overrides', nargs='*', help='key=value pairs that replace config entries')
    args = parser.parse_args()
    cfg = yaml.safe_load(Path(args.config).read_text())
    for item in args.overrides:
        key, sep, value = item.partition('=')
        if not sep or key not in cfg:
            print(f"error: '{item}' is not key=value with a key of {sorted(cfg)}", file=sys.stderr)
            return 2
        cfg[key] = yaml.safe_load(value)

    if cfg.get('mode', 'frozen') == 'joint':
        return train_joint(cfg)
    if cfg.get('mode', 'frozen') != 'frozen':
        print(f"error: mode must be 'frozen' or 'joint', got {cfg['mode']!r}", file=sys.stderr)
        return 2
    from ultralytics import RTDETR, YOLO

    from rhis_plugin.models import save_rhis
    from rhis_plugin.training import TrainConfig
    from rhis_plugin.ultralytics import evaluate_mask_ap, load_person_dataset, train_head_frozen

    size = (int(cfg['imgsz']), int(cfg['imgsz']))
    try:
        train = load_person_dataset(cfg['data'], 'train', size)
        val = load_person_dataset(cfg['data'], 'val', None)
    except (FileNotFoundError, ValueError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 2
    detector_cls = RTDETR if 'rtdetr' in Path(str(cfg['model'])).stem.lower() else YOLO
    detector = detector_cls(cfg['model'])
    model = train_head_frozen(detector, train, cfg['preset'],
                              TrainConfig(iters=int(cfg['iters']), batch_size=int(cfg['batch']), lr=float(cfg['lr'])),
                              detector_boxes=bool(cfg['detector_boxes']), detector_conf=float(cfg['detector_conf']),
                              imgsz=int(cfg['imgsz']), device=cfg['device'], peopleseg=cfg.get('peopleseg'))
    path = save_rhis(model.cpu(), cfg['out'], preset=cfg['preset'], detector=str(cfg['model']))
    print(f'saved {path}')
    metrics = evaluate_mask_ap(detector_cls(cfg['model']), val, imgsz=int(cfg['imgsz']), weights=path)
    print('  '.join(f'{k}: {v:.4f}' for k, v in metrics.items()))
    return 0


def train_joint(cfg: dict) -> int:
    from ultralytics import YOLO

    from rhis_plugin.ultralytics import rhis_joint_trainer

    model = YOLO(cfg['model'])
    model.train(trainer=rhis_joint_trainer(cfg['preset'], cfg.get('peopleseg')), data=cfg['data'], epochs=int(cfg['epochs']),
                imgsz=int(cfg['imgsz']), batch=int(cfg['batch']), workers=int(cfg['workers']), device=cfg['device'],
                name=cfg['name'], exist_ok=True)
    print(f"saved {model.trainer.wdir / 'rhis.pth'}")
    return 0


if __name__ == '__main__':
    sys.exit(main())
