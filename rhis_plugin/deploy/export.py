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
import torch.nn.functional as F

from ..models.rhis import RHIS
from ..version import __version__

__all__ = ['export_onnx', 'ExportWrapper']

MIN_OPSET = 16


class ExportWrapper(nn.Module):
    """The model as the graph sees it: tuple outputs, optional dilation of the target class baked in.

    Dilation takes, for the target-class logit, the maximum over a (2k+1)^2 window: after softmax/argmax the
    target region grows by k mask pixels (a true morphological dilation, unlike the reference's logit boost).
    """

    def __init__(self, model: RHIS, dilation: int = 0) -> None:
        super().__init__()
        if dilation < 0:
            raise ValueError(f'dilation must be >= 0 mask pixels, got {dilation}')
        self.model = model
        self.dilation = dilation

    def forward(self, images: torch.Tensor, rois: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.model(images, rois)
        masks = out['masks']
        if self.dilation:
            k = self.dilation
            target = F.max_pool2d(masks[:, 1:2], 2 * k + 1, stride=1, padding=k)
            masks = torch.cat([masks[:, :1], target, masks[:, 2:]], dim=1)
        return masks, out['binary_masks']


def export_onnx(model: RHIS, path: str | Path, image_size: tuple[int, int] = (480, 640), dilation: int = 0,
                opset: int = 17, dynamic_image: bool = False, metadata: dict[str, Any] | None = None) -> Path:
    """Exports ``model`` to ``path`` (plus ``<path>.json`` describing it) and checks the graph.

    Returns the path of the ONNX file.
    """
    import onnx

    if opset < MIN_OPSET:
        raise ValueError(f'opset {opset} has no aligned RoiAlign; use opset >= {MIN_OPSET}')
    height, width = int(image_size[0]), int(image_size[1])
    if height < 32 or width < 32:
        raise ValueError(f'image_size must be at least 32x32, got {image_size}')
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wrapper = ExportWrapper(model, dilation).eval()
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
        'image_size': None if dynamic_image else [height, width], 'dilation': dilation,
        'inputs': {'images': 'float32 [B,3,H,W] RGB in [0,1], no mean/std (ImageNet normalisation is in the graph)',
                   'rois': 'float32 [N,5] (batch_idx, x1, y1, x2, y2) normalised to [0,1] of the image W/H'},
        'outputs': {'masks': 'float32 [N,3,mh,mw] logits: 0 background, 1 target person, 2 other persons',
                    'binary_masks': 'float32 [B,1,H,W] person probability'},
        **(metadata or {}),
    }
    path.with_suffix(path.suffix + '.json').write_text(json.dumps(sidecar, indent=2))
    return path
