"""Weights in and out: RHIS checkpoints, people-seg UNet checkpoints and ImageNet encoder weights.

Kept apart from the architecture: every model builds with random init and takes weights from here.
Files load with ``torch.load(weights_only=True)``; nothing downloads unless a function says it does.
"""
from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

from ..utils.checkpoint import load_checkpoint_file
from .mmdet_checkpoint import is_mmdet_rhis_checkpoint, mmdet_to_rhis_payload
from .peopleseg_unet import PeopleSegUNet
from .presets import build_from_config
from .rhis import RHIS, RHISConfig
from .roi_encoder import RoIEncoder
from .weights_origin import ORIGIN_KEY, model_origin_record, set_peopleseg_origin

__all__ = ['read_state_dict', 'load_peopleseg_state', 'load_peopleseg_weights', 'load_roi_encoder_weights', 'save_rhis',
           'load_rhis', 'rhis_from_weights']

_CONTAINER_KEYS = ('state_dict', 'model_state_dict', 'model')


def read_state_dict(path: str | Path, strip_prefixes: tuple[str, ...] = ('module.',)) -> dict[str, torch.Tensor]:
    """Reads a state dict from a checkpoint file, unwrapping common containers and key prefixes."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'weights file not found: {path}')
    payload = load_checkpoint_file(path, map_location='cpu')
    for key in _CONTAINER_KEYS:
        if isinstance(payload, dict) and isinstance(payload.get(key), dict):
            payload = payload[key]
            break
    if not isinstance(payload, dict) or not all(isinstance(v, torch.Tensor) for v in payload.values()):
        raise ValueError(f'{path} does not hold a state dict of tensors')
    state = {}
    for key, value in payload.items():
        for prefix in strip_prefixes:
            if key.startswith(prefix):
                key = key[len(prefix):]
        state[key] = value
    return state


def _load_strict(module: nn.Module, state: dict[str, torch.Tensor], source: str, hint: str = '') -> None:
    """Loads ``state`` into ``module``: every key and shape must match, else a ValueError naming the first
    difference (``hint``, in brackets, says what a shape difference usually means for this module)."""
    own = module.state_dict()
    resized = [f'{k} {tuple(v.shape)} (the module: {tuple(own[k].shape)})' for k, v in state.items()
               if k in own and v.shape != own[k].shape]
    if resized:
        raise ValueError(f'{source} does not match {type(module).__name__}{f" ({hint})" if hint else ""}: '
                         f'{len(resized)} tensors differ in shape, e.g. {resized[0]}')
    result = module.load_state_dict(state, strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise ValueError(f'{source} does not match {type(module).__name__}: missing {result.missing_keys[:5]}, '
                         f'unexpected {result.unexpected_keys[:5]}')


def load_peopleseg_state(unet: PeopleSegUNet, state: dict[str, torch.Tensor], source: str) -> None:
    """Loads a people-seg state dict strictly: an smp ``Unet``'s keys, or a wrapper's (``unet.*`` keys of a
    PeopleSegmentor, ``peopleseg.*`` of an RHIS checkpoint, ``model.``/``module.`` prefixes), whose other entries
    (e.g. a refiner, the RHIS head) are ignored."""
    for prefix in ('unet.', 'peopleseg.'):      # a PeopleSegmentor's, or an RHIS checkpoint's UNet
        if any(k.startswith(prefix) for k in state):
            state = {k[len(prefix):]: v.float() for k, v in state.items() if k.startswith(prefix)}
            break
    _load_strict(unet, state, source, hint='another decoder width: a people-seg UNet fits the presets whose '
                                          'unet_decoder_channels it was trained with')
    unet.weights_origin = source


def load_peopleseg_weights(unet: PeopleSegUNet, path: str | Path) -> None:
    """Loads people-seg UNet weights from a local file: an smp ``Unet`` checkpoint (e.g. the reference's
    ``best_model_b0_*.pth``), a state dict with ``unet.`` keys, an mmengine training checkpoint of a
    ``PeopleSegmentor``, or an RHIS checkpoint (its UNet; ``'starter'``: the bundled starter model's).
    (``rhis_plugin.mmdet.runner.load_peopleseg_checkpoint`` also takes URLs.)"""
    from ..weights import resolve_weights
    path = resolve_weights(path)
    state = read_state_dict(path, strip_prefixes=('module.', 'model.', 'pretrained_unet.'))
    load_peopleseg_state(unet, state, str(path))


def load_roi_encoder_weights(encoder: RoIEncoder, source: str | Path) -> None:
    """ImageNet weights for the ROI encoder from a timm state-dict file, or ``'timm'`` to download them.

    The stem takes 4 channels (RGB + person probability): the RGB filters are copied and the extra channel
    starts at zero, so the pretrained features are unchanged at the start of training.
    """
    if str(source) == 'timm':
        import timm
        state = timm.create_model(encoder.model_name, pretrained=True).state_dict()
    else:
        state = read_state_dict(source)
    own = encoder.body.state_dict()
    stem = own['conv_stem.weight'].clone()
    rgb = state.get('conv_stem.weight')
    if rgb is None or rgb.shape[1] != 3 or rgb.shape[0] != stem.shape[0]:
        raise ValueError(f'{source} has no 3-channel conv_stem.weight for {encoder.model_name}')
    stem.zero_()
    stem[:, :3] = rgb
    state = {k: v for k, v in state.items() if k in own}
    state['conv_stem.weight'] = stem
    _load_strict(encoder.body, state, str(source))


def save_rhis(model: RHIS, path: str | Path, half: bool = False, **metadata: Any) -> Path:
    """Saves weights plus the config needed to rebuild the model (loadable with ``weights_only=True``).

    The people-seg UNet's origin goes into ``meta['peopleseg_weights']`` (``'trained'`` for a UNet trained with the
    head; a file by its name); ``half`` stores floating-point tensors in float16 (``load_rhis`` restores float32).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    origin = model_origin_record(model)
    state = {k: v.half() if half and v.is_floating_point() else v for k, v in model.state_dict().items()}
    torch.save({'rhis_config': model.cfg.to_dict(), 'state_dict': state,
                'meta': {**metadata, ORIGIN_KEY: origin}}, path)
    return path


def load_rhis(path: str | Path, map_location: str | torch.device = 'cpu', **overrides: Any) -> RHIS:
    """Rebuilds an RHIS model from a checkpoint; ``overrides`` change non-weight options (e.g. ``aux_heads``).

    Reads files of :func:`save_rhis` (a joint Ultralytics run's ``weights/rhis.pth`` is one), and mmdet checkpoints of
    ``RHISDetector`` (``roi_head.rhis.*``) or ``RHISTwoStageDetector`` (``roi_head.rhis_head.rhis.*``), whose preset
    comes from the config stored in the checkpoint's metadata.

    Returns:
        The model in training mode, with ``model.peopleseg.weights_origin`` from the checkpoint (files written
        before origins were recorded count as loaded).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'RHIS checkpoint not found: {path}')
    try:
        payload = load_checkpoint_file(path, map_location=map_location)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError) as error:
        raise ValueError(f'{path} is not an RHIS checkpoint: expected a .pth file written by save_rhis or an mmdet '
                         f'RHIS checkpoint (or an RHIS .onnx file where ONNX is accepted); torch could not read it '
                         f'({type(error).__name__})') from error
    if isinstance(payload, dict) and 'rhis_config' not in payload and is_mmdet_rhis_checkpoint(payload):
        payload = mmdet_to_rhis_payload(payload, path)
    if not isinstance(payload, dict) or 'rhis_config' not in payload:
        raise ValueError(f'{path} is not an RHIS checkpoint (no rhis_config, no roi_head.rhis.* weights); was it '
                         'written by save_rhis or by mmdet training an RHIS config?')
    model = build_from_config(RHISConfig(**{**payload['rhis_config'], **overrides}))
    meta = payload.get('meta') or {}
    set_peopleseg_origin(model, meta[ORIGIN_KEY] if ORIGIN_KEY in meta else str(path))
    state = {k: v.float() if v.is_floating_point() else v for k, v in payload['state_dict'].items()}
    result = model.load_state_dict(state, strict=False)
    # Auxiliary heads may be dropped on load; everything else must match.
    missing = [k for k in result.missing_keys if not k.startswith(('head.contour_head', 'head.distance_head'))]
    unexpected = [k for k in result.unexpected_keys
                  if not k.startswith(('head.contour_head', 'head.distance_head'))]
    if missing or unexpected:
        raise ValueError(f'{path}: weights do not match the stored config: missing {missing[:5]}, '
                         f'unexpected {unexpected[:5]}')
    return model


def rhis_from_weights(weights: str | Path | None = 'starter', preset: str | None = None, allow_random: bool = False,
                      source: str = 'rhis', map_location: str | torch.device = 'cpu',
                      peopleseg: str | Path | None = None, **overrides: Any) -> RHIS:
    """The model a user-facing entry point runs: ``'starter'`` (or ``None``) the bundled starter model, a checkpoint
    path (:func:`load_rhis`), or ``'random'`` (``preset`` with random weights, on purpose).

    ``peopleseg`` puts other people-seg UNet weights in (a stage-1 checkpoint or ``'starter'``). A model whose frozen
    people-seg UNet is then still random is refused (:class:`RandomWeightsError`, naming the fix) unless
    ``allow_random`` or ``weights='random'``; ``source`` names the caller in that message.
    """
    from ..weights import STARTER_PRESET, resolve_weights
    from .presets import DEFAULT_PRESET, build_rhis
    from .weights_origin import RANDOM, refuse_random_peopleseg
    if weights is not None and str(weights) == RANDOM:
        return build_rhis(preset or DEFAULT_PRESET, peopleseg_weights=peopleseg or RANDOM, **overrides)
    path = resolve_weights('starter' if weights is None else weights)
    if preset is not None and str(weights or 'starter') == 'starter' and preset != STARTER_PRESET:
        raise ValueError(f'the starter model is {STARTER_PRESET}, not {preset}: pass weights of your own for {preset}, '
                         "or weights='random'")
    model = load_rhis(path, map_location=map_location, **overrides)
    if peopleseg is not None:
        load_peopleseg_weights(model.peopleseg, peopleseg)
    refuse_random_peopleseg(model, f'{source} ({path})', allow_random)
    return model
