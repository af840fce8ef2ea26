"""No silent randomness: where a model's frozen people-seg UNet got its weights, and what happens when nowhere.

RHIS's person map, UNet features and edge guide come from a *frozen* UNet. If nobody loaded or trained it, they are
fixed noise, the head learns on noise and ``binary`` masks are noise. The origin (a file, ``'trained'``, or
``'random'`` when random weights were asked for) lives on ``model.peopleseg.weights_origin`` in memory and in
checkpoint metadata / ONNX sidecars, never in the UNet's state dict (which stays smp's):

- training or running a model whose frozen UNet has no origin warns once per model, naming the fix;
- user-facing inference (``rhis predict``, ``rhis-yolo``, ``add_rhis``) refuses a random UNet unless random
  weights are asked for explicitly (``weights='random'``, ``allow_random=True``, ``--allow-random``).
"""
from __future__ import annotations

import warnings

import torch.nn as nn

__all__ = ['RANDOM', 'RandomWeightsWarning', 'RandomWeightsError', 'peopleseg_origin', 'set_peopleseg_origin',
           'has_random_peopleseg', 'warn_if_random_peopleseg', 'refuse_random_peopleseg', 'FIX']

RANDOM = 'random'
FIX = ("load stage-1 weights (load_peopleseg_weights(model.peopleseg, PATH), mmdet's "
       "model.roi_head.peopleseg_checkpoint, --peopleseg / rhis_peopleseg=), use the bundled starter model "
       "(rhis_plugin.weights.starter_path()), or ask for random weights explicitly (weights='random' / "
       "allow_random=True / --allow-random)")


class RandomWeightsWarning(UserWarning):
    """A model runs or trains on a frozen people-seg UNet nobody loaded or trained."""


class RandomWeightsError(ValueError):
    """A user-facing entry point was given a model whose frozen people-seg UNet is random."""


def peopleseg_origin(model: nn.Module) -> str | None:
    """Where the people-seg UNet of an RHIS model got its weights (``None``: nowhere)."""
    return getattr(getattr(model, 'peopleseg', None), 'weights_origin', None)


def set_peopleseg_origin(model: nn.Module, origin: str | None) -> None:
    """Records where the people-seg UNet's weights came from (a path, ``'trained'``, ``'random'``)."""
    model.peopleseg.weights_origin = None if origin is None else str(origin)


def has_random_peopleseg(model: nn.Module) -> bool:
    """True when the UNet is frozen and its weights are random (never loaded or trained, or asked to be)."""
    frozen = getattr(getattr(model, 'cfg', None), 'freeze_unet', True)
    return bool(frozen) and peopleseg_origin(model) in (None, RANDOM)


def warn_if_random_peopleseg(model: nn.Module) -> None:
    """Warns once per model when its frozen UNet was never loaded or trained (silent when ``'random'`` was asked)."""
    if getattr(model, '_warned_random_peopleseg', False) or not has_random_peopleseg(model):
        return
    if peopleseg_origin(model) == RANDOM:
        return
    model._warned_random_peopleseg = True
    warnings.warn(f'the frozen people-seg UNet of this {type(model).__name__} was never loaded or trained: its person '
                  f'map and features are noise. Fix: {FIX}.', RandomWeightsWarning, stacklevel=3)


def refuse_random_peopleseg(model: nn.Module, source: str, allow_random: bool = False) -> None:
    """Raises :class:`RandomWeightsError` for a random frozen UNet unless ``allow_random``."""
    if allow_random or not has_random_peopleseg(model):
        return
    raise RandomWeightsError(f'{source}: the frozen people-seg UNet was never loaded or trained, so its masks would be '
                             f'noise. Fix: {FIX}.')
