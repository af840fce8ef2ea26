"""A learnable guided filter that snaps a person-probability map to image edges (trained end to end).

Builds on the fast guided filter (:func:`rhis_plugin.postprocess.refine.fast_guided_filter`) the way Wu et al.,
"Fast End-to-End Trainable Guided Filter" (CVPR 2018), do: a small guidance network replaces the fixed
luminance guide, and the regularisation ``eps`` is learned (in log space). The radius is learned as a softmax
mixture over candidate radii, which keeps it differentiable. Only standard ops: it exports to ONNX.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn as nn

from ..postprocess.refine import fast_guided_filter

__all__ = ['LearnableGuidedFilter']

_LUMA = (0.299, 0.587, 0.114)


class LearnableGuidedFilter(nn.Module):
    """A guided filter whose guidance, regularisation and radius are learned.

    Args:
        radii: candidate window radii (pixels at full resolution), mixed by learned weights.
        eps: initial regularisation (guide values are in about [0, 1]).
        guide_channels: hidden width of the guidance network (1x1 convs on RGB).
        subsample: coefficient grid stride of the fast guided filter (1 = exact filter).

    At initialisation the guidance network outputs the luminance, so the module starts as the classic filter.
    """

    def __init__(self, radii: Sequence[int] = (2, 4, 8), eps: float = 1e-2, guide_channels: int = 16,
                 subsample: int = 1) -> None:
        super().__init__()
        if not radii or min(radii) < 1:
            raise ValueError(f'radii must be positive integers, got {radii}')
        if eps <= 0:
            raise ValueError(f'eps must be > 0, got {eps}')
        self.radii = tuple(int(r) for r in radii)
        self.subsample = subsample
        self.log_eps = nn.Parameter(torch.tensor(math.log(eps)))
        self.radius_logits = nn.Parameter(torch.zeros(len(self.radii)))
        self.guide_net = nn.Sequential(nn.Conv2d(3, guide_channels, 1), nn.BatchNorm2d(guide_channels),
                                       nn.ReLU(inplace=True), nn.Conv2d(guide_channels, 1, 1))
        nn.init.zeros_(self.guide_net[-1].weight)
        nn.init.zeros_(self.guide_net[-1].bias)
        self.register_buffer('luma', torch.tensor(_LUMA).view(1, 3, 1, 1), persistent=False)

    def guide(self, images: torch.Tensor) -> torch.Tensor:
        """images [B, 3, H, W] RGB in [0, 1] -> guide [B, 1, H, W]."""
        return (images * self.luma).sum(1, keepdim=True) + self.guide_net(images)

    def forward(self, images: torch.Tensor, prob: torch.Tensor) -> torch.Tensor:
        """Refines probabilities ``prob`` [B, 1, H, W] along the edges of ``images``; returns values in [0, 1]."""
        guide = self.guide(images)
        eps = self.log_eps.exp()
        weights = torch.softmax(self.radius_logits, dim=0)
        out = 0.0
        for i, radius in enumerate(self.radii):
            out = out + weights[i] * fast_guided_filter(guide, prob, radius, eps, self.subsample)
        return out.clamp(0.0, 1.0)
