"""One way to open an ONNX Runtime session, for the RHIS graph and for detector graphs alike."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from .._optional import require

__all__ = ['default_providers', 'onnx_session']


def default_providers() -> list[str]:
    """TensorRT, CUDA, then CPU: whichever of them this onnxruntime build has."""
    ort = require('onnxruntime', extra='onnx', feature='ONNX inference')
    available = ort.get_available_providers()
    preferred = ['TensorrtExecutionProvider', 'CUDAExecutionProvider', 'CPUExecutionProvider']
    return [p for p in preferred if p in available] or available


def onnx_session(path: str | Path, providers: Sequence[str] | None = None, num_threads: int | None = None,
                 what: str = 'ONNX') -> Any:
    """An ``onnxruntime.InferenceSession`` for ``path``.

    Args:
        path: the ONNX file.
        providers: execution providers (default: :func:`default_providers`).
        num_threads: intra-op threads for the CPU provider (``None``: onnxruntime's default).
        what: what the file should be, for error messages (e.g. ``'detector ONNX'``).

    Returns:
        The session.

    Raises:
        FileNotFoundError: no such file.
        ValueError: onnxruntime cannot load it.
    """
    ort = require('onnxruntime', extra='onnx', feature='ONNX inference')
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'{what} file not found: {path}')
    options = ort.SessionOptions()
    if num_threads:
        options.intra_op_num_threads = num_threads
    try:
        return ort.InferenceSession(str(path), options, providers=list(providers or default_providers()))
    except Exception as error:   # onnxruntime raises its own exception types
        raise ValueError(f'{path} is not a loadable ONNX model: {error}') from error
