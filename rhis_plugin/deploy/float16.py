"""float16 ONNX files for GPUs: half the size and, on a GPU's tensor cores, faster convolutions.

ONNX Runtime's converter (``onnxruntime.transformers.float16``) does the work, with two repairs the RHIS graph
needs:

- ``Resize`` and ``RoiAlign`` stay float32 (``op_block_list``): the working-size resize is antialiased (its
  precision is the person map's), and RoiAlign has no float16 kernel on every execution provider. Casts go around
  them.
- PyTorch exports ``Resize`` with an empty constant for the unused ``roi`` / ``scales`` inputs; the converter puts a
  Cast behind that constant, and ONNX Runtime then sees both ``scales`` and ``sizes`` and refuses the file. Those
  inputs become "absent" (``''``), as the ONNX standard allows, and the dead casts are removed.

Inputs and outputs stay float32 (``keep_io_types``): the RHIS contract and every reader of the file are unchanged.
On a CPU the file runs (ONNX Runtime falls back to float32 kernels with casts) but is not faster.
"""
from __future__ import annotations

from pathlib import Path

from .._optional import require

__all__ = ['convert_to_float16', 'FLOAT32_OPS']

FLOAT32_OPS = ('Resize', 'RoiAlign')


def convert_to_float16(path: str | Path, out: str | Path | None = None) -> Path:
    """Converts the float32 ONNX file ``path`` to float16 weights and activations, in place or into ``out``.

    Args:
        path: a float32 ONNX file (e.g. written by :func:`~rhis_plugin.deploy.export_onnx`).
        out: where to write the float16 file (default: over ``path``).

    Returns:
        The path of the float16 file.

    Example:
        >>> convert_to_float16('rhis.onnx', 'rhis_fp16.onnx')
        PosixPath('rhis_fp16.onnx')
    """
    onnx = require('onnx', extra='onnx', feature='float16 export')
    float16 = require('onnxruntime.transformers.float16', extra='onnx', feature='float16 export')
    model = onnx.load(str(path))
    empty = _empty_constants(model)
    resize_inputs = {node.name: list(node.input) for node in model.graph.node if node.op_type == 'Resize'}
    model = float16.convert_float_to_float16(model, keep_io_types=True, op_block_list=list(FLOAT32_OPS))
    for node in model.graph.node:
        if node.op_type == 'Resize':
            for k, name in enumerate(resize_inputs[node.name][1:3], start=1):
                if name in empty:
                    node.input[k] = ''
    _remove_dead_nodes(model.graph)
    _sort_topologically(model.graph)
    onnx.checker.check_model(model)
    out = Path(out or path)
    onnx.save(model, str(out))
    return out


def _empty_constants(model) -> set[str]:
    """Names of the graph's empty tensors (Constant nodes and initializers with no elements)."""
    from onnx import numpy_helper

    names = {init.name for init in model.graph.initializer if 0 in init.dims}
    for node in model.graph.node:
        if node.op_type == 'Constant' and node.attribute and node.attribute[0].name == 'value':
            if numpy_helper.to_array(node.attribute[0].t).size == 0:
                names.add(node.output[0])
    return names


def _remove_dead_nodes(graph) -> None:
    """Removes nodes none of whose outputs is used, until none is left."""
    outputs = {o.name for o in graph.output}
    while True:
        used = {name for node in graph.node for name in node.input} | outputs
        dead = [node for node in graph.node if not any(o in used for o in node.output)]
        if not dead:
            return
        for node in dead:
            graph.node.remove(node)


def _sort_topologically(graph) -> None:
    """Reorders the nodes so that each comes after the producers of its inputs (the converter appends its casts)."""
    available = {i.name for i in graph.input} | {i.name for i in graph.initializer} | {''}
    pending, ordered = list(graph.node), []
    while pending:
        ready = [node for node in pending if all(name in available for name in node.input)]
        if not ready:
            raise RuntimeError(f'the float16 graph has a cycle or a missing input near {pending[0].name!r}')
        for node in ready:
            available.update(node.output)
        ordered += ready
        done = {id(node) for node in ready}
        pending = [node for node in pending if id(node) not in done]
    del graph.node[:]
    graph.node.extend(ordered)
