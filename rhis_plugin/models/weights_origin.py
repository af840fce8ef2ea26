"""No silent randomness: where a model's frozen people-seg UNet got its weights, and what happens when nowhere.

RHIS's person map, UNet features and edge guide come from a *frozen* UNet. If nobody loaded or trained it, they are
fixed noise, the head learns on noise and ``binary`` masks are noise. The origin (a file, ``'trained'``, or
``'random'`` when random weights were asked for) is one record, ``peopleseg_weights``, carried through every format:
``model.peopleseg.weights_origin`` in memory, ``meta`` of ``save_rhis`` checkpoints, the RHIS head's
``peopleseg_weights`` entry in mmdet checkpoints (``roi_head.peopleseg_weights``: the text as a uint8 tensor, since
mmengine broadcasts and moves state dicts as tensors), and the ONNX file's own ``metadata_props`` (the JSON sidecar
repeats it). Never in the UNet's state dict (which stays smp's). A file path is recorded by its name only
(:func:`shipped_origin`): no machine's folders in shipped metadata. A file with no record is unknown, and unknown is
treated as random: refused by user-facing inference unless asked for.

- training or running a model whose frozen UNet has no origin warns once per model, naming the fix;
- user-facing inference (``rhis predict``, ``rhis-yolo``, ``add_rhis``) refuses a random UNet unless random
  weights are asked for explicitly (``weights='random'``, ``allow_random=True``, ``--allow-random``).
"""
from __future__ import annotations

import warnings

import torch
import torch.nn as nn

__all__ = ['RANDOM', 'TRAINED', 'ORIGIN_KEY', 'RandomWeightsWarning', 'RandomWeightsError', 'peopleseg_origin',
           'set_peopleseg_origin', 'shipped_origin', 'model_origin_record', 'origin_to_tensor', 'origin_from_tensor', 'has_random_peopleseg',
           'warn_if_random_peopleseg', 'refuse_random_peopleseg', 'FIX']

RANDOM = 'random'
TRAINED = 'trained'            # a UNet trained together with the head (not frozen)
ORIGIN_KEY = 'peopleseg_weights'   # the record's name in every format
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


def shipped_origin(origin: str | None) -> str | None:
    """The origin as it goes into a file: a path reduced to its file name (``/home/me/unet.pth`` -> ``unet.pth``);
    ``'random'``, ``'trained'`` and other words unchanged, ``None`` stays ``None``."""
    if origin is None:
        return None
    text = str(origin)
    return text.replace('\\', '/').rstrip('/').rsplit('/', 1)[-1] if '/' in text or '\\' in text else text


def origin_to_tensor(origin: str | None) -> torch.Tensor:
    """The record as a state-dict entry: its UTF-8 bytes (empty for ``None``)."""
    return torch.tensor(list((origin or '').encode()), dtype=torch.uint8)


def origin_from_tensor(value: torch.Tensor) -> str | None:
    """Inverse of :func:`origin_to_tensor`."""
    return bytes(value.to(torch.uint8).tolist()).decode() or None


def model_origin_record(model: nn.Module) -> str | None:
    """What a file written from ``model`` records: its UNet's origin, ``'trained'`` for a UNet that trains with the
    head, ``None`` when a frozen UNet has none."""
    frozen = getattr(getattr(model, 'cfg', None), 'freeze_unet', True)
    return shipped_origin(peopleseg_origin(model)) or (None if frozen else TRAINED)


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
