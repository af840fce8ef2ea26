"""One way to open an ONNX Runtime session, for the RHIS graph and for detector graphs alike, and one way to write
and read what an RHIS ONNX file says about itself.

The description (format, config, working size, the people-seg UNet's origin record) is stored in the file's own
``metadata_props`` under the key ``rhis`` (a JSON object), so it survives copying the ``.onnx`` alone; the JSON
sidecar beside it is the same object for people to read. Files written before ``metadata_props`` fall back to the
sidecar; with neither, the description is empty (the origin unknown).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

from .._optional import require

__all__ = ['default_providers', 'onnx_session', 'METADATA_KEY', 'write_metadata', 'read_metadata']

METADATA_KEY = 'rhis'


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
    # Every graph optimisation ONNX Runtime has (constant folding, Conv+BN+activation fusion, the NCHWc layout for
    # convolutions on the CPU): ORT's default, said here so that no caller runs a less optimised graph by accident.
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if num_threads:
        options.intra_op_num_threads = num_threads
    try:
        return ort.InferenceSession(str(path), options, providers=list(providers or default_providers()))
    except Exception as error:   # onnxruntime raises its own exception types
        raise ValueError(f'{path} is not a loadable ONNX model: {error}') from error


def write_metadata(path: str | Path, metadata: dict[str, Any]) -> Path:
    """Writes ``metadata`` into the ONNX file's ``metadata_props`` (key ``rhis``) and beside it as ``<path>.json``."""
    onnx = require('onnx', extra='onnx', feature='ONNX export')
    path = Path(path)
    model = onnx.load(str(path))
    kept = [p for p in model.metadata_props if p.key != METADATA_KEY]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    entry = model.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, json.dumps(metadata)
    onnx.save(model, str(path))
    path.with_suffix(path.suffix + '.json').write_text(json.dumps(metadata, indent=2))
    return path


def read_metadata(session: Any, path: str | Path) -> dict[str, Any]:
    """The description of an RHIS ONNX file: its ``metadata_props``, else its JSON sidecar, else ``{}``."""
    text = session.get_modelmeta().custom_metadata_map.get(METADATA_KEY)
    if text:
        return json.loads(text)
    sidecar = Path(path).with_suffix(Path(path).suffix + '.json')
    return json.loads(sidecar.read_text()) if sidecar.is_file() else {}
