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
from .peopleseg_unet import PeopleSegUNet
from .presets import build_from_config
from .rhis import RHIS, RHISConfig
from .roi_encoder import RoIEncoder

__all__ = ['read_state_dict', 'load_peopleseg_state', 'load_peopleseg_weights', 'load_roi_encoder_weights', 'save_rhis',
           'load_rhis']

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


def _load_strict(module: nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    result = module.load_state_dict(state, strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise ValueError(f'{source} does not match {type(module).__name__}: missing {result.missing_keys[:5]}, '
                         f'unexpected {result.unexpected_keys[:5]}')


def load_peopleseg_state(unet: PeopleSegUNet, state: dict[str, torch.Tensor], source: str) -> None:
    """Loads a people-seg state dict strictly: an smp ``Unet``'s keys, or a wrapper's (``unet.*`` keys of a
    PeopleSegmentor, ``model.``/``module.`` prefixes), whose other entries (e.g. a refiner) are ignored."""
    if any(k.startswith('unet.') for k in state):
        state = {k[len('unet.'):]: v for k, v in state.items() if k.startswith('unet.')}
    _load_strict(unet, state, source)


def load_peopleseg_weights(unet: PeopleSegUNet, path: str | Path) -> None:
    """Loads people-seg UNet weights from a local file: an smp ``Unet`` checkpoint (e.g. the reference's
    ``best_model_b0_*.pth``), a state dict with ``unet.`` keys, or an mmengine training checkpoint of a
    ``PeopleSegmentor``. (``rhis_plugin.mmdet.runner.load_peopleseg_checkpoint`` also takes URLs.)"""
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


def save_rhis(model: RHIS, path: str | Path, **metadata: Any) -> Path:
    """Saves weights plus the config needed to rebuild the model (loadable with ``weights_only=True``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({'rhis_config': model.cfg.to_dict(), 'state_dict': model.state_dict(), 'meta': metadata}, path)
    return path


def load_rhis(path: str | Path, map_location: str | torch.device = 'cpu', **overrides: Any) -> RHIS:
    """Rebuilds a model saved by :func:`save_rhis`; ``overrides`` change non-weight options (e.g. aux_heads)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'RHIS checkpoint not found: {path}')
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError) as error:
        raise ValueError(f'{path} is not an RHIS checkpoint: expected a .pth file written by save_rhis (or an RHIS '
                         f'.onnx file where ONNX is accepted); torch could not read it ({type(error).__name__})') \
            from error
    if not isinstance(payload, dict) or 'rhis_config' not in payload:
        raise ValueError(f'{path} is not an RHIS checkpoint (no rhis_config); was it written by save_rhis?')
    model = build_from_config(RHISConfig(**{**payload['rhis_config'], **overrides}))
    result = model.load_state_dict(payload['state_dict'], strict=False)
    # Auxiliary heads may be dropped on load; everything else must match.
    missing = [k for k in result.missing_keys if not k.startswith(('head.contour_head', 'head.distance_head'))]
    unexpected = [k for k in result.unexpected_keys
                  if not k.startswith(('head.contour_head', 'head.distance_head'))]
    if missing or unexpected:
        raise ValueError(f'{path}: weights do not match the stored config: missing {missing[:5]}, '
                         f'unexpected {unexpected[:5]}')
    return model
