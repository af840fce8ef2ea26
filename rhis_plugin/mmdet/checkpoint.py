"""Loading mmengine checkpoints with torch >= 2.6, where ``torch.load`` defaults to ``weights_only=True``.

mmengine 0.10.7 calls a bare ``torch.load`` on local files. Its own resume checkpoints hold the message hub
(``HistoryBuffer`` objects with numpy arrays and references to the buffer's statistics methods), which the
weights-only unpickler rejects, so ``resume=True`` and ``load_from`` fail. We re-register mmengine's local-file
loader through its official scheme registry and load with ``weights_only=True`` plus an allow-list of exactly
what mmengine stores. ``getattr`` is allowed only in the one form mmengine pickles (``HistoryBuffer.<stat>``),
so the loader stays as safe as torch's default for untrusted files.
"""
from __future__ import annotations

import os.path as osp
import pickle
from typing import Any, Callable

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

__all__ = ['mmengine_safe_globals', 'load_local_checkpoint', 'register_checkpoint_loader', 'checkpoint_state_dict']


def _history_buffer_getattr(obj: Any, name: str) -> Callable:
    """Stands in for ``builtins.getattr`` while unpickling: only ``HistoryBuffer``'s statistics methods."""
    if obj is HistoryBuffer and isinstance(name, str) and callable(getattr(HistoryBuffer, name, None)) \
            and not name.startswith('_'):
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'checkpoint asks for getattr({obj!r}, {name!r}); only HistoryBuffer statistics methods are allowed')


def mmengine_safe_globals() -> list[Any]:
    """Globals an mmengine/mmdet checkpoint needs beyond torch's weights-only defaults."""
    core = np._core if hasattr(np, '_core') else np.core  # numpy 2 renamed numpy.core
    allowed: list[Any] = [
        HistoryBuffer,
        np.ndarray,
        np.dtype,
        core.multiarray._reconstruct,
        core.multiarray.scalar,
        (_history_buffer_getattr, 'builtins.getattr'),
        # Checkpoints written under numpy 1.x name the same functions under numpy.core.
        (core.multiarray._reconstruct, 'numpy.core.multiarray._reconstruct'),
        (core.multiarray.scalar, 'numpy.core.multiarray.scalar'),
    ]
    # numpy >= 1.25 pickles dtypes through their classes (numpy.dtypes.Float64DType, ...).
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        allowed += [getattr(dtypes, name) for name in dir(dtypes) if name.endswith('DType')]
    return allowed


def load_local_checkpoint(filename: str, map_location: Any = None) -> Any:
    """Drop-in for mmengine's ``load_from_local`` that works under ``weights_only=True``."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    try:
        with torch.serialization.safe_globals(mmengine_safe_globals()):
            return torch.load(filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        unknown = torch.serialization.get_unsafe_globals_in_checkpoint(filename)
        raise pickle.UnpicklingError(
            f'{filename} holds objects that are not allowed in a weights-only load: {unknown}. If you trust '
            'the file, allow them with torch.serialization.add_safe_globals([...]) before loading.') from error


def register_checkpoint_loader() -> None:
    """Makes mmengine load local checkpoints (``load_from``, ``resume``) with :func:`load_local_checkpoint`."""
    CheckpointLoader.register_scheme(prefixes='', loader=load_local_checkpoint, force=True)


def checkpoint_state_dict(path: str, prefix: str | None = None) -> dict[str, torch.Tensor]:
    """The state dict of any checkpoint mmengine can read (local file or URL; an mmengine training checkpoint or
    a bare state dict), without DDP's ``module.`` prefix. With ``prefix`` and keys that carry it (a submodule of
    a bigger model), only those keys, with the prefix removed."""
    payload = CheckpointLoader.load_checkpoint(path, map_location='cpu')
    state = payload.get('state_dict', payload) if isinstance(payload, dict) else payload
    state = {k.removeprefix('module.'): v for k, v in state.items()}
    if prefix and any(k.startswith(prefix) for k in state):
        state = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    return state
