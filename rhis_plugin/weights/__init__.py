"""Weights shipped inside the package: the starter model (see ``README.md`` in this folder, its card).

``rhislightresnarrow_lite0_64x48_coco_person.pth`` is an RHIS ``rhislightresnarrow_lite0_64x48`` (people-seg UNet
and head, float16) trained by ``tools/train_starter.py`` on COCO train2017 images and annotations only (CC BY 4.0).
It is the default model of ``add_rhis``, ``rhis-yolo``, ``rhis predict`` and ``rhis demo``, and its UNet the default
stage-1 weights of the training entry points for presets with the same UNet (encoder and decoder widths).
"""
from __future__ import annotations

from pathlib import Path

__all__ = ['STARTER_NAME', 'STARTER_PRESET', 'STARTER', 'starter_path', 'resolve_weights']

STARTER_PRESET = 'rhislightresnarrow_lite0_64x48'
STARTER_NAME = f'{STARTER_PRESET}_coco_person.pth'
STARTER = 'starter'          # the name every entry point accepts for this file


def starter_path() -> Path:
    """The bundled starter checkpoint (``FileNotFoundError`` in a checkout that has not trained it yet)."""
    path = Path(__file__).with_name(STARTER_NAME)
    if not path.is_file():
        raise FileNotFoundError(f'the starter model {path} is missing from this install; train it with '
                                'python tools/train_starter.py, or pass weights of your own')
    return path


def resolve_weights(spec: str | Path | None) -> str | Path | None:
    """``'starter'`` -> the starter's path; anything else (a path, ``'random'``, ``None``) unchanged."""
    return starter_path() if spec is not None and str(spec) == STARTER else spec
