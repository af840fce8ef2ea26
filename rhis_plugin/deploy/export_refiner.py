"""Stand-alone ONNX export of guided-filter mask refinement (fixed or learned), for pipelines that refine the
people-seg mask or pasted instance masks outside the main graph.

Graph: ``images`` [B, 3, H, W] RGB in [0, 1] and ``masks`` [B, 1, H, W] probabilities -> ``refined`` [B, 1, H, W];
batch, height and width are dynamic.
"""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn as nn

from .._optional import require
from ..models.guided_filter import LearnableGuidedFilter
from ..postprocess.refine import fast_guided_filter

__all__ = ['FixedGuidedFilter', 'export_refiner_onnx']


class FixedGuidedFilter(nn.Module):
    """The classic (luminance-guided) fast guided filter as a module, with its settings baked in."""

    def __init__(self, radius: int = 4, eps: float = 1e-3, subsample: int = 1) -> None:
        super().__init__()
        self.radius, self.eps, self.subsample = radius, eps, subsample

    def forward(self, images: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        return fast_guided_filter(images, masks, self.radius, self.eps, self.subsample).clamp(0.0, 1.0)


def export_refiner_onnx(refiner: LearnableGuidedFilter | FixedGuidedFilter, path: str | Path,
                        image_size: tuple[int, int] = (180, 320), opset: int = 17) -> Path:
    """Exports ``refiner`` (in eval mode) and checks the graph. ``image_size`` (h, w) is the example size only."""
    onnx = require('onnx', extra='onnx', feature='ONNX export')
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    refiner = refiner.eval()
    images = torch.rand(1, 3, *image_size)
    masks = torch.rand(1, 1, *image_size)
    axes = {0: 'batch', 2: 'height', 3: 'width'}
    with torch.no_grad():
        torch.onnx.export(refiner, (images, masks), str(path), input_names=['images', 'masks'],
                          output_names=['refined'], dynamic_axes={'images': axes, 'masks': axes, 'refined': axes},
                          opset_version=opset, do_constant_folding=True, dynamo=False)
    onnx.checker.check_model(onnx.load(str(path)))
    return path
