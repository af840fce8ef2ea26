"""Checkpoint loading for the mmdet glue: one module that every head, model and tool uses.

mmengine 0.10.7 calls a bare ``torch.load`` on local files, which torch >= 2.6 runs weights-only; its own resume
checkpoints then fail to load. We re-register mmengine's local-file loader through its official scheme registry
with :func:`rhis_plugin.utils.checkpoint.load_checkpoint_file` (weights-only plus an allow-list of exactly what
mmengine stores), so ``resume=True`` and ``load_from`` work.
"""
from __future__ import annotations

from typing import Any

import torch
from mmengine.runner.checkpoint import CheckpointLoader

from rhis_plugin.models import RHIS, PeopleSegUNet
from rhis_plugin.models.pretrained import load_peopleseg_state
from rhis_plugin.models.weights_origin import ORIGIN_KEY, origin_from_tensor, set_peopleseg_origin
from rhis_plugin.utils.checkpoint import load_checkpoint_file

__all__ = ['load_local_checkpoint', 'register_checkpoint_loader', 'checkpoint_state_dict',
           'load_peopleseg_checkpoint', 'load_rhis_checkpoint', 'checkpoint_origin']


def load_local_checkpoint(filename: str, map_location: Any = None) -> Any:
    """Drop-in for mmengine's ``load_from_local`` that works under ``weights_only=True``."""
    return load_checkpoint_file(filename, map_location)


def register_checkpoint_loader() -> None:
    """Makes mmengine load local checkpoints (``load_from``, ``resume``) with :func:`load_local_checkpoint`."""
    CheckpointLoader.register_scheme(prefixes='', loader=load_local_checkpoint, force=True)


def checkpoint_state_dict(path: str, prefix: str | None = None) -> dict[str, torch.Tensor]:
    """The state dict of any checkpoint mmengine can read (local file or URL; an mmengine training checkpoint or
    a bare state dict), without DDP's ``module.`` prefix. With ``prefix`` and keys that carry it (a submodule of
    a bigger model), only those keys, with the prefix removed."""
    return _state_dict_of(CheckpointLoader.load_checkpoint(path, map_location='cpu'), prefix)


def _state_dict_of(payload: Any, prefix: str | None = None) -> dict[str, torch.Tensor]:
    state = payload.get('state_dict', payload) if isinstance(payload, dict) else payload
    state = {k.removeprefix('module.'): v for k, v in state.items()}
    if prefix and any(k.startswith(prefix) for k in state):
        state = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    return state


def load_peopleseg_checkpoint(unet: PeopleSegUNet, path: str) -> None:
    """Loads people-seg UNet weights through mmengine's checkpoint loader (local files, URLs, mmengine training
    checkpoints of a PeopleSegmentor or plain smp ``Unet`` state dicts), strictly."""
    load_peopleseg_state(unet, checkpoint_state_dict(path), path)


def load_rhis_checkpoint(rhis: RHIS, path: str) -> None:
    """Loads RHIS weights from a ``save_rhis`` file or an mmengine checkpoint of an RHISDetector
    (``roi_head.rhis.*`` keys), strictly."""
    payload = CheckpointLoader.load_checkpoint(path, map_location='cpu')
    result = rhis.load_state_dict(_state_dict_of(payload, prefix='roi_head.rhis.'), strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise ValueError(f'{path} does not match the teacher RHIS: missing {result.missing_keys[:5]}, '
                         f'unexpected {result.unexpected_keys[:5]}')
    set_peopleseg_origin(rhis, checkpoint_origin(payload, path))


def checkpoint_origin(payload: Any, path: str) -> str | None:
    """The UNet origin a checkpoint records (``save_rhis`` meta, or an mmdet RHIS head's entry); a recorded
    ``'random'`` stays random. Files without a record: their path (written before records existed)."""
    if isinstance(payload, dict) and ORIGIN_KEY in (payload.get('meta') or {}) and 'rhis_config' in payload:
        return payload['meta'][ORIGIN_KEY]
    state = payload.get('state_dict', payload) if isinstance(payload, dict) else {}
    for key in (f'roi_head.{ORIGIN_KEY}', f'roi_head.rhis_head.{ORIGIN_KEY}'):
        if isinstance(state, dict) and isinstance(state.get(key), torch.Tensor):
            return origin_from_tensor(state[key])
    return path
