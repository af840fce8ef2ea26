"""ONNX export with the RHIS contract shared with the reference implementation's files.

    inputs   images [B, 3, H, W] float32 RGB in [0, 1] (no mean/std: normalisation is inside the graph)
             rois   [N, 5] float32 (batch_idx, x1, y1, x2, y2), normalised to [0, 1] of W and H
    outputs  masks        [N, 3, mh, mw] logits: 0 background, 1 target person, 2 other persons
             binary_masks [B, 1, h', w'] person probability of the people-seg UNet at the working size

Batch and N are dynamic (N = 0 gives empty masks); H and W are dynamic by default (the graph letterboxes every frame
to the model's working size itself, so its cost does not depend on the frame) or fixed at export. RoI Align is ONNX
``RoiAlign`` (opset >= 16, ``half_pixel`` = torchvision's aligned=True); the working-size resize is ``Resize`` with
``antialias`` (opset >= 18), which matches PyTorch's antialiased bilinear resize.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

from ..models.rhis import RHIS
from ..models.weights_origin import ORIGIN_KEY, model_origin_record
from .._optional import require
from .float16 import convert_to_float16
from .onnx_session import write_metadata
from ..version import __version__

__all__ = ['export_onnx', 'ExportWrapper', 'register_antialias_symbolic']

MIN_OPSET = 16
ANTIALIAS_OPSET = 18


def _antialiased_bilinear(g, images, output_size, align_corners, *scales):
    """ONNX symbolic of ``F.interpolate(..., mode='bilinear', antialias=True, align_corners=False)``: the
    TorchScript exporter drops ``antialias``; these Resize attributes reproduce PyTorch's filter."""
    batch_channels = g.op('Slice', g.op('Shape', images), g.op('Constant', value_t=torch.tensor([0])),
                          g.op('Constant', value_t=torch.tensor([2])))
    sizes = g.op('Concat', batch_channels, g.op('Cast', output_size, to_i=7), axis_i=0)    # 7: int64
    empty = g.op('Constant', value_t=torch.tensor([], dtype=torch.float32))
    return g.op('Resize', images, empty, empty, sizes, mode_s='linear', antialias_i=1, exclude_outside_i=1,
                coordinate_transformation_mode_s='half_pixel')


def register_antialias_symbolic() -> None:
    """Registers :func:`_antialiased_bilinear` for opset 18 (idempotent)."""
    torch.onnx.register_custom_op_symbolic('aten::_upsample_bilinear2d_aa', _antialiased_bilinear, ANTIALIAS_OPSET)


class ExportWrapper(nn.Module):
    """The model as the graph sees it: tuple outputs (``masks`` logits, ``binary_masks``).

    Dilation is not in the graph: it is one operation for every path, a morphological dilation by K image pixels
    of the pasted binary mask (``PostprocessConfig(dilation=K)``), which the runtime applies after pasting.
    """

    def __init__(self, model: RHIS) -> None:
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor, rois: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.model(images, rois)
        return out['masks'], out['binary_masks']


QUANTIZATIONS = (None, 'int8', 'fp16')


def export_onnx(model: RHIS, path: str | Path, image_size: tuple[int, int] | None = None, opset: int = 18,
                metadata: dict[str, Any] | None = None, quantize: str | None = None) -> Path:
    """Exports ``model`` to ``path`` and checks the graph; its description (config, working size, the UNet's origin
    record) goes into the file's ``metadata_props`` and ``<path>.json`` (:func:`write_metadata`).

    The graph follows the RHIS contract: ``images`` [B, 3, H, W] RGB in [0, 1] and ``rois`` [N, 5]
    (batch index, x1, y1, x2, y2 normalised to [0, 1]) -> ``masks`` [N, 3, mh, mw] and ``binary_masks``.

    Args:
        model: the RHIS model (exported in eval mode).
        path: where to write the ``.onnx`` file.
        image_size: (H, W) of a fixed-size ``images`` input; ``None`` (default): any H and W (the graph letterboxes
            each frame to the model's working size).
        opset: ONNX opset (>= 18 with a working size, for the antialiased resize; >= 16 without, for RoiAlign with
            aligned coordinates).
        metadata: extra entries for the description.
        quantize: ``'int8'``: ONNX Runtime's dynamic quantisation of the convolutions' weights (``ConvInteger``;
            activations quantised at run time, no calibration data). Measured on a 2-core x86 CPU it is slower than
            float32, not faster (README, Speed): an option for CPUs with fast integer dot products, to measure there.
            ``'fp16'``: float16 weights and activations for GPUs, half the file
            (:func:`~rhis_plugin.deploy.float16.convert_to_float16`; inputs and outputs stay float32).

    Returns:
        The path of the ONNX file.

    Example:
        >>> from rhis_plugin.models import build_rhis
        >>> path = export_onnx(build_rhis(aux_heads=False), 'rhis_b0.onnx')
        >>> OnnxRHIS(path).mask_shape
        [128, 96]
    """
    onnx = require('onnx', extra='onnx', feature='ONNX export')
    if quantize not in QUANTIZATIONS:
        raise ValueError(f'quantize must be one of {QUANTIZATIONS}, got {quantize!r}')
    working_size = getattr(model.cfg, 'working_size', None)
    needed = ANTIALIAS_OPSET if working_size is not None else MIN_OPSET
    if opset < needed:
        raise ValueError(f'opset {opset} is too old: use opset >= {needed} (RoiAlign with aligned coordinates'
                         + (', antialiased Resize for the working size)' if working_size is not None else ')'))
    height, width = (480, 640) if image_size is None else (int(image_size[0]), int(image_size[1]))
    if height < 32 or width < 32:
        raise ValueError(f'image_size must be at least 32x32, got {image_size}')
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    register_antialias_symbolic()
    wrapper = ExportWrapper(model).eval()
    images = torch.rand(1, 3, height, width)
    rois = torch.tensor([[0.0, 0.1, 0.1, 0.5, 0.9], [0.0, 0.4, 0.2, 0.9, 0.95]])
    dynamic_axes = {'images': {0: 'batch'}, 'rois': {0: 'num_rois'}, 'masks': {0: 'num_rois'},
                    'binary_masks': {0: 'batch', 2: 'working_height', 3: 'working_width'}}
    if image_size is None:
        dynamic_axes['images'].update({2: 'height', 3: 'width'})
    with torch.no_grad():
        torch.onnx.export(wrapper, (images, rois), str(path), input_names=['images', 'rois'],
                          output_names=['masks', 'binary_masks'], dynamic_axes=dynamic_axes, opset_version=opset,
                          do_constant_folding=True, dynamo=False)
    graph = onnx.load(str(path))
    onnx.checker.check_model(graph)
    scatter = [n.name for n in graph.graph.node if n.op_type.startswith('Scatter')]
    if scatter:
        raise RuntimeError(f'exported graph has in-place writes (ScatterND): {scatter[:5]}')
    if quantize == 'int8':
        quantization = require('onnxruntime.quantization', extra='onnx', feature='int8 quantisation')
        quantization.quantize_dynamic(str(path), str(path), weight_type=quantization.QuantType.QUInt8,
                                      op_types_to_quantize=['Conv'])
    elif quantize == 'fp16':
        convert_to_float16(path)
    cfg = model.cfg
    sidecar = {
        'format': 'rhis-onnx', 'rhis_plugin_version': __version__, 'opset': opset, 'quantize': quantize,
        'architecture': cfg.architecture, 'config': cfg.to_dict(),
        'roi_size': list(cfg.roi_size), 'mask_size': list(cfg.mask_size),
        'image_size': None if image_size is None else [height, width], 'working_size': working_size,
        ORIGIN_KEY: model_origin_record(model),
        'normalization': {'unet': [list(cfg.unet_mean), list(cfg.unet_std)],
                          'roi': [list(cfg.roi_mean), list(cfg.roi_std)]},
        'inputs': {'images': 'float32 [B,3,H,W] RGB in [0,1], no mean/std (normalisation is in the graph)',
                   'rois': 'float32 [N,5] (batch_idx, x1, y1, x2, y2) normalised to [0,1] of the image W/H'},
        'outputs': {'masks': 'float32 [N,3,mh,mw] logits: 0 background, 1 target person, 2 other persons',
                    'binary_masks': 'float32 [B,1,h,w] person probability at the working size (the frame '
                                    'letterboxed to a long side of at most working_size, top-left)'},
        **(metadata or {}),
    }
    return write_metadata(path, sidecar)
