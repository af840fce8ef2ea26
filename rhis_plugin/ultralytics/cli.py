"""``rhis-yolo``: Ultralytics' ``yolo`` command line plus RHIS masks.

    rhis-yolo predict model=yolo11n.pt source=image.jpg save=True             # the bundled starter model
    rhis-yolo track model=rtdetr-l.pt source=video.mp4 rhis=rhis.pth rhis_dilate=1

Every ``yolo`` argument works as it does for ``yolo``. RHIS arguments: ``rhis`` (checkpoint; default ``starter``, the
bundled starter model; ``random``: random weights of ``rhis_preset``, on purpose), ``rhis_peopleseg`` (people-seg UNet
weights to use instead of the checkpoint's), ``rhis_allow_random`` (accept a checkpoint whose frozen people-seg UNet
was never loaded or trained), ``rhis_classes`` (e.g. ``[0]``), ``rhis_conf``, ``rhis_threshold``,
``rhis_dilate``, ``rhis_smooth`` (``guided``/``gaussian``), ``rhis_binary``, ``rhis_keep_boxes`` (boxes without
an RHIS mask keep their rectangle, so that ``save_txt`` label files hold every box).
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Sequence

__all__ = ['main', 'parse']

MODES = ('predict', 'track')
_RHIS_ARGS = {'rhis': 'weights', 'rhis_preset': 'preset', 'rhis_classes': 'classes', 'rhis_conf': 'conf',
              'rhis_binary': 'binary', 'rhis_keep_boxes': 'keep_boxes', 'rhis_peopleseg': 'peopleseg',
              'rhis_allow_random': 'allow_random'}
_POSTPROCESS_ARGS = {'rhis_threshold': 'threshold', 'rhis_dilate': 'dilation', 'rhis_smooth': 'smoothing'}


def parse(argv: Sequence[str]) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """-> (mode, Ultralytics overrides, add_rhis keyword arguments)."""
    from ultralytics.cfg import MODES as YOLO_MODES
    from ultralytics.cfg import TASKS, smart_value

    mode, overrides, rhis, postprocess = None, {}, {}, {}
    for arg in argv:
        if '=' in arg:
            key, value = arg.split('=', 1)
            if not key or not value:
                raise ValueError(f"'{arg}' is not key=value")
            parsed = smart_value(value)
            if key in _RHIS_ARGS:
                rhis[_RHIS_ARGS[key]] = parsed
            elif key in _POSTPROCESS_ARGS:
                postprocess[_POSTPROCESS_ARGS[key]] = parsed
            else:
                overrides[key] = parsed
        elif arg in TASKS:
            overrides['task'] = arg
        elif arg in YOLO_MODES:
            mode = arg
        else:
            raise ValueError(f"unknown argument '{arg}': expected a mode ({', '.join(MODES)}), a task or key=value")
    if mode not in MODES:
        raise ValueError(f"rhis-yolo runs the modes {', '.join(MODES)} (got {mode!r}); train and evaluate the head "
                         'with tools/train_rhis_ultralytics.py and tools/val_rhis_ultralytics.py')
    if 'model' not in overrides:
        raise ValueError('model=... is required (a .pt or .yaml detector, e.g. model=yolo11n.pt)')
    if isinstance(rhis.get('classes'), int):
        rhis['classes'] = [rhis['classes']]
    if postprocess:
        from ..postprocess import PostprocessConfig
        rhis['postprocess'] = PostprocessConfig(**postprocess)
    return mode, overrides, rhis


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ('-h', '--help', 'help'):
        print(__doc__)
        return 0
    try:
        mode, overrides, rhis = parse(argv)
    except ValueError as error:
        print(f'rhis-yolo: {error}', file=sys.stderr)
        return 2
    from ultralytics import RTDETR, YOLO

    from .predict import add_rhis

    model_path = overrides.pop('model')
    task = overrides.pop('task', None)
    model = RTDETR(model_path) if 'rtdetr' in Path(str(model_path)).stem.lower() else YOLO(model_path, task=task)
    try:
        add_rhis(model, **rhis)
    except (FileNotFoundError, ValueError, TypeError) as error:
        print(f'rhis-yolo: {error}', file=sys.stderr)
        return 2
    results = getattr(model, mode)(**overrides)
    if results is not None and not isinstance(results, list):   # stream=True returns a generator
        for _ in results:
            pass
    return 0


if __name__ == '__main__':
    sys.exit(main())
