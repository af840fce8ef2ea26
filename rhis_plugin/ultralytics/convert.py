"""A YOLO segmentation model's detection part, so that RHIS can train and run under a YOLO-seg model's own boxes.

RHIS gives masks to detection models (``rhis-yolo`` refuses a ``segment`` model: its own masks would compete with
RHIS's). A YOLO-seg model is a YOLO detector plus a mask branch (prototypes and mask coefficients in its ``Segment``
head); dropping that branch leaves a ``Detect`` model with the very same boxes and scores, which ``rhis-yolo train
rhis_mode=frozen`` takes. This is how the Results compare a YOLO-seg model's masks with RHIS's on the same boxes.
"""
from __future__ import annotations

from copy import deepcopy
from pathlib import Path

import torch

__all__ = ['segment_to_detect']


def segment_to_detect(source: str | Path, target: str | Path) -> Path:
    """Writes the detection part of an Ultralytics segmentation checkpoint as a detection checkpoint.

    Args:
        source: a YOLO ``segment`` checkpoint (``.pt``), e.g. ``runs/segment/train/weights/best.pt``.
        target: the ``.pt`` file to write.

    Returns:
        ``target``; ``YOLO(target)`` is a ``detect`` model with the source's boxes, scores and class names.

    Raises:
        ValueError: ``source`` is not a segmentation model.

    Example:
        >>> segment_to_detect('yolo11n-seg.pt', 'yolo11n-seg_detect.pt')  # doctest: +SKIP
        >>> YOLO('yolo11n-seg_detect.pt').task  # doctest: +SKIP
        'detect'
    """
    from ultralytics import YOLO
    from ultralytics.nn.tasks import DetectionModel

    segment = YOLO(str(source))
    if segment.task != 'segment':
        raise ValueError(f'{source} is a {segment.task!r} model, not a segmentation model')
    config = deepcopy(segment.model.yaml)
    inputs = config['head'][-1][0]
    config['head'] = [*config['head'][:-1], [inputs, 1, 'Detect', ['nc']]]
    detect = DetectionModel(config, nc=len(segment.names), verbose=False)
    state = segment.model.float().state_dict()
    detect.load_state_dict({k: v for k, v in state.items() if k in detect.state_dict()}, strict=True)
    detect.names, detect.task = dict(segment.names), 'detect'
    detect.args = {**getattr(segment.model, 'args', {}), 'task': 'detect'}
    detect.stride = segment.model.stride
    checkpoint = torch.load(str(source), map_location='cpu', weights_only=False)
    checkpoint.update(model=deepcopy(detect).half(), ema=None, optimizer=None,
                      train_args={**(checkpoint.get('train_args') or {}), 'task': 'detect'})
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    torch.save(checkpoint, target)
    return target
