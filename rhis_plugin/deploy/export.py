"""ONNX export with the RHIS contract shared with the reference implementation's files.

    inputs   images [B, 3, H, W] float32 RGB in [0, 1] (no mean/std: normalisation is inside the graph)
             rois   [N, 5] float32 (batch_idx, x1, y1, x2, y2), normalised to [0, 1] of W and H
    outputs  masks        [N, 3, mh, mw] logits: 0 background, 1 target person, 2 other persons
             binary_masks [B, 1, H, W] person probability of the people-seg UNet

Batch and N are dynamic (N = 0 gives empty masks); H and W are fixed at export, or dynamic with
``dynamic_image=True``. RoI Align is ONNX ``RoiAlign`` (opset >= 16, ``half_pixel`` = torchvision's aligned=True).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

from ..models.rhis import RHIS
from .._optional import require
from ..version import __version__

__all__ = ['export_onnx', 'ExportWrapper']

MIN_OPSET = 16


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


def export_onnx(model: RHIS, path: str | Path, image_size: tuple[int, int] = (480, 640), opset: int = 17,
                dynamic_image: bool = False, metadata: dict[str, Any] | None = None) -> Path:
    """Exports ``model`` to ``path`` (plus ``<path>.json`` describing it) and checks the graph.

    The graph follows the RHIS contract: ``images`` [B, 3, H, W] RGB in [0, 1] and ``rois`` [N, 5]
    (batch index, x1, y1, x2, y2 normalised to [0, 1]) -> ``masks`` [N, 3, mh, mw] and ``binary_masks``.

    Args:
        model: the RHIS model (exported in eval mode).
        path: where to write the ``.onnx`` file.
        image_size: (H, W) of the graph's ``images`` input (the example size with ``dynamic_image``).
        opset: ONNX opset (>= 16, for RoiAlign with aligned coordinates).
        dynamic_image: let height and width vary.
        metadata: extra entries for the JSON sidecar.

    Returns:
        The path of the ONNX file.

    Example:
        >>> from rhis_plugin.models import build_rhis
        >>> path = export_onnx(build_rhis(aux_heads=False), 'rhis_b0.onnx', image_size=(128, 128))
        >>> OnnxRHIS(path).mask_shape
        [128, 96]
    """
    onnx = require('onnx', extra='onnx', feature='ONNX export')
    if opset < MIN_OPSET:
        raise ValueError(f'opset {opset} has no aligned RoiAlign; use opset >= {MIN_OPSET}')
    height, width = int(image_size[0]), int(image_size[1])
    if height < 32 or width < 32:
        raise ValueError(f'image_size must be at least 32x32, got {image_size}')
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wrapper = ExportWrapper(model).eval()
    images = torch.rand(1, 3, height, width)
    rois = torch.tensor([[0.0, 0.1, 0.1, 0.5, 0.9], [0.0, 0.4, 0.2, 0.9, 0.95]])
    dynamic_axes = {'images': {0: 'batch'}, 'rois': {0: 'num_rois'}, 'masks': {0: 'num_rois'},
                    'binary_masks': {0: 'batch'}}
    if dynamic_image:
        dynamic_axes['images'].update({2: 'height', 3: 'width'})
        dynamic_axes['binary_masks'].update({2: 'height', 3: 'width'})
    with torch.no_grad():
        torch.onnx.export(wrapper, (images, rois), str(path), input_names=['images', 'rois'],
                          output_names=['masks', 'binary_masks'], dynamic_axes=dynamic_axes, opset_version=opset,
                          do_constant_folding=True, dynamo=False)
    graph = onnx.load(str(path))
    onnx.checker.check_model(graph)
    scatter = [n.name for n in graph.graph.node if n.op_type.startswith('Scatter')]
    if scatter:
        raise RuntimeError(f'exported graph has in-place writes (ScatterND): {scatter[:5]}')
    cfg = model.cfg
    sidecar = {
        'format': 'rhis-onnx', 'rhis_plugin_version': __version__, 'opset': opset,
        'architecture': cfg.architecture, 'config': cfg.to_dict(),
        'roi_size': list(cfg.roi_size), 'mask_size': list(cfg.mask_size),
        'image_size': None if dynamic_image else [height, width],
        'inputs': {'images': 'float32 [B,3,H,W] RGB in [0,1], no mean/std (ImageNet normalisation is in the graph)',
                   'rois': 'float32 [N,5] (batch_idx, x1, y1, x2, y2) normalised to [0,1] of the image W/H'},
        'outputs': {'masks': 'float32 [N,3,mh,mw] logits: 0 background, 1 target person, 2 other persons',
                    'binary_masks': 'float32 [B,1,H,W] person probability'},
        **(metadata or {}),
    }
    path.with_suffix(path.suffix + '.json').write_text(json.dumps(sidecar, indent=2))
    return path
