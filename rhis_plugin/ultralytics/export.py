"""Ultralytics export plus RHIS: the detector in any format Ultralytics writes, RHIS beside it as ONNX, and with an
ONNX detector exported with ``nms=True`` one merged detector + RHIS file.

RHIS itself exports to ONNX only (``rhis_plugin.deploy.export_onnx``); the merged file is
``rhis_plugin.deploy.export_end_to_end``'s.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from ..models.rhis import RHIS

__all__ = ['export_with_rhis']


def export_with_rhis(model: Any, rhis: RHIS, classes: Sequence[int] | None = None, /,
                     **export_args: Any) -> dict[str, Path]:
    """Runs ``model.export(**export_args)``, then writes RHIS beside the detector.

    Args:
        model: an Ultralytics ``YOLO`` / ``RTDETR``.
        rhis: the RHIS model to export.
        classes: detector labels that are people, for the merged file (default: the class named ``person``, else 0).
        **export_args: Ultralytics' export arguments (``format``, ``imgsz``, ``nms``, ``conf``, ``model``, ...); the merged file
            drops detections below ``conf`` (default 0.25), as the ``nms=True`` detector does.

    Returns:
        ``{'detector': ..., 'rhis': <stem>_rhis.onnx}``, plus ``'end_to_end': <stem>_rhis_end2end.onnx`` for
        ``format=onnx nms=True``.

    Example:
        >>> from ultralytics import YOLO
        >>> from rhis_plugin.models import load_rhis
        >>> from rhis_plugin.weights import starter_path
        >>> files = export_with_rhis(YOLO('yolo11n.pt'), load_rhis(starter_path(), aux_heads=False),
        ...                          format='onnx', nms=True)  # doctest: +SKIP
        >>> sorted(files)  # doctest: +SKIP
        ['detector', 'end_to_end', 'rhis']
    """
    from ..deploy import export_end_to_end, export_onnx
    from .predict import person_class_ids

    detector = Path(type(model).export(model, **export_args))   # model.export may be this function (rhis-yolo)
    rhis = rhis.eval()
    files = {'detector': detector, 'rhis': export_onnx(rhis, detector.with_name(f'{detector.stem}_rhis.onnx'))}
    if export_args.get('format') == 'onnx' and export_args.get('nms'):
        classes = list(classes if classes is not None else (person_class_ids(model.names) or [0]))
        files['end_to_end'] = export_end_to_end(rhis, detector,
                                                detector.with_name(f'{detector.stem}_rhis_end2end.onnx'),
                                                conf=0.25 if export_args.get('conf') is None else export_args['conf'],
                                                classes=classes)
    for role, path in files.items():
        print(f'rhis: {role} -> {path}')
    return files
