"""Reading checkpoint files with ``torch.load(weights_only=True)``, mmengine training checkpoints included.

torch >= 2.6 loads weights-only by default. mmengine 0.10.7's training checkpoints hold the message hub
(``HistoryBuffer`` objects with numpy arrays and references to the buffer's statistics methods), which the
weights-only unpickler rejects. :func:`checkpoint_safe_globals` allow-lists exactly what mmengine stores;
``getattr`` is allowed only in the one form mmengine pickles (``HistoryBuffer.<stat>``), so loading stays as safe
as torch's default for untrusted files. mmengine is optional: without it, its checkpoints cannot exist here.
"""
from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

__all__ = ['checkpoint_safe_globals', 'load_checkpoint_file']


def _history_buffer_class() -> type | None:
    try:
        from mmengine.logging.history_buffer import HistoryBuffer
    except ImportError:
        return None
    return HistoryBuffer


def _history_buffer_getattr(obj: Any, name: str) -> Callable:
    """Stands in for ``builtins.getattr`` while unpickling: only ``HistoryBuffer``'s statistics methods."""
    history_buffer = _history_buffer_class()
    if history_buffer is not None and obj is history_buffer and isinstance(name, str) \
            and callable(getattr(history_buffer, name, None)) and not name.startswith('_'):
        return getattr(history_buffer, name)
    raise pickle.UnpicklingError(
        f'checkpoint asks for getattr({obj!r}, {name!r}); only HistoryBuffer statistics methods are allowed')


def checkpoint_safe_globals() -> list[Any]:
    """Globals an mmengine/mmdet checkpoint needs beyond torch's weights-only defaults."""
    core = np._core if hasattr(np, '_core') else np.core  # numpy 2 renamed numpy.core
    allowed: list[Any] = [
        np.ndarray,
        np.dtype,
        core.multiarray._reconstruct,
        core.multiarray.scalar,
        (_history_buffer_getattr, 'builtins.getattr'),
        # Checkpoints written under numpy 1.x name the same functions under numpy.core.
        (core.multiarray._reconstruct, 'numpy.core.multiarray._reconstruct'),
        (core.multiarray.scalar, 'numpy.core.multiarray.scalar'),
    ]
    history_buffer = _history_buffer_class()
    if history_buffer is not None:
        allowed.append(history_buffer)
    # numpy >= 1.25 pickles dtypes through their classes (numpy.dtypes.Float64DType, ...).
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        allowed += [getattr(dtypes, name) for name in dir(dtypes) if name.endswith('DType')]
    return allowed


def load_checkpoint_file(path: str | Path, map_location: Any = None) -> Any:
    """``torch.load(path, weights_only=True)`` that also reads mmengine training checkpoints.

    Raises:
        FileNotFoundError: no such file.
        pickle.UnpicklingError: the file holds objects outside the allow-list (named in the message).
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f'{path} can not be found.')
    try:
        with torch.serialization.safe_globals(checkpoint_safe_globals()):
            return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        unknown = torch.serialization.get_unsafe_globals_in_checkpoint(str(path))
        raise pickle.UnpicklingError(
            f'{path} holds objects that are not allowed in a weights-only load: {unknown}. If you trust '
            'the file, allow them with torch.serialization.add_safe_globals([...]) before loading.') from error
