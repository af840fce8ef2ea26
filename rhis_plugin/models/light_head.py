"""A lighter hierarchical mask head: the same hierarchy and 3 classes at about a seventh of the cost per person.

Where :class:`~rhis_plugin.models.hierarchical_head.HierarchicalMaskHead` spends its MACs (full 3x3 convolutions at
the ROI resolution and twice that), this head uses depthwise-separable blocks (MobileNet's, Howard et al. 2017,
https://arxiv.org/abs/1704.04861) in the decoder, the stem and the branches, predicts both branches at the ROI
resolution and upsamples their logits to the mask size together, where one small convolution on [upsampled logits |
person-probability guide] restores the edges (added to the upsampled logits, so an untrained correction is plain
upsampling):

    bg/fg logits            [N, 2, h, w] --+
    target/non-target       [N, 2, h, w] --+--> edge-guided x2 --> [N, 4, mh, mw]  (trunk gated by the bg/fg features)
    3-class logits          :func:`~rhis_plugin.models.hierarchical_head.combine_hierarchical_logits`

At 10 persons the head is latency-bound (many small operations on [N, C, h, w] maps, each one a pass over memory
and, in ONNX Runtime, a layout change around convolutions), not MAC-bound: the ROI-resolution stage has no attention
gate and the target/non-target branch no spatial attention (the coarser stages keep their gates).

The decoder, the gating and the outputs are the full head's (this class subclasses it), so losses, distillation,
export and paste-back need no change.

:class:`LightMaskSizeHead`, :class:`LightFullStemHead`, :class:`LightResidualBlocksHead`
(:class:`LightCoarseResidualHead` at the coarse stages only) and :class:`LightAttentionHead` each take back one part of
the full head (its mask-size branch outputs, its stem, its decoder blocks, its two attention modules): ablations that
measure where the light head loses mask AP (README, "Where the light preset loses its mask AP").
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .hierarchical_head import HierarchicalMaskHead
from .layers import ConvBNAct, ResidualBlock, SpatialAttention

__all__ = ['LightAttentionHead', 'LightCoarseResidualHead', 'LightFullStemHead', 'LightHierarchicalMaskHead',
           'LightMaskSizeHead', 'LightResidualBlocksHead', 'SeparableBlock']


class SeparableBlock(nn.Module):
    """1x1 projection, depthwise 3x3, 1x1: a residual block at the cost of about one 1x1 convolution."""

    def __init__(self, in_channels: int, out_channels: int | None = None) -> None:
        super().__init__()
        out_channels = out_channels or in_channels
        self.project = ConvBNAct(in_channels, out_channels, 1)
        self.depthwise = ConvBNAct(out_channels, out_channels, 3, groups=out_channels)
        self.pointwise = ConvBNAct(out_channels, out_channels, 1, act=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.project(x)
        return F.relu(x + self.pointwise(self.depthwise(x)))


class EdgeGuidedUpsample(nn.Module):
    """Logits at the ROI size -> the mask size: bilinear, plus a small correction from [logits | guide]."""

    def __init__(self, channels: int = 4, hidden: int = 8) -> None:
        super().__init__()
        self.refine = nn.Sequential(ConvBNAct(channels + 1, hidden), nn.Conv2d(hidden, channels, 1))

    def forward(self, logits: torch.Tensor, guide: torch.Tensor) -> torch.Tensor:
        up = F.interpolate(logits, size=guide.shape[-2:], mode='bilinear', align_corners=False)
        return up + self.refine(torch.cat([up, guide], dim=1))


class LightHierarchicalMaskHead(HierarchicalMaskHead):
    """:class:`HierarchicalMaskHead` with depthwise-separable blocks, predicting at the ROI resolution (same
    arguments and outputs)."""

    blocks = (SeparableBlock,) * 4
    gated_stages = (True, True, True, False)

    def build_stem(self, in_channels: int, out_channels: int) -> nn.Module:
        return nn.Sequential(ConvBNAct(in_channels, in_channels, 3, groups=in_channels),
                             ConvBNAct(in_channels, out_channels, 1))

    def build_branches(self, c1: int, b: int) -> None:
        self.bgfg_features = SeparableBlock(c1, b)
        self.bgfg_out = nn.Conv2d(b, 2, 1)
        self.fg_gate = nn.Sequential(nn.Conv2d(b, c1, 1), nn.Sigmoid())
        self.tnt_features = SeparableBlock(c1, b)
        self.tnt_out = nn.Conv2d(b, 2, 1)
        self.upsample = EdgeGuidedUpsample()

    def branch_logits(self, bgfg: torch.Tensor, tnt: torch.Tensor, guide: torch.Tensor
                      ) -> tuple[torch.Tensor, torch.Tensor]:
        logits = self.upsample(torch.cat([self.bgfg_out(bgfg), self.tnt_out(tnt)], dim=1), guide)
        return logits[:, :2], logits[:, 2:]


class LightMaskSizeHead(LightHierarchicalMaskHead):
    """:class:`LightHierarchicalMaskHead` whose branches predict at the mask size, as the full head's do: each branch's
    features are upsampled, joined with the edge guide and turned into logits by a 3x3 convolution there (about 0.045
    GMAC per person more), instead of predicting at the ROI size and upsampling the logits."""

    def build_branches(self, c1: int, b: int) -> None:
        self.bgfg_features = SeparableBlock(c1, b)
        self.fg_gate = nn.Sequential(nn.Conv2d(b, c1, 1), nn.Sigmoid())
        self.tnt_features = SeparableBlock(c1, b)
        self.bgfg_out, self.tnt_out = (nn.Sequential(ConvBNAct(b + 1, b // 2 + 4), nn.Conv2d(b // 2 + 4, 2, 1))
                                       for _ in range(2))

    branch_logits = HierarchicalMaskHead.branch_logits


class LightFullStemHead(LightHierarchicalMaskHead):
    """:class:`LightHierarchicalMaskHead` with the full head's stem: two 3x3 convolutions over [RGB | person
    probability | UNet features] at the ROI size (about 0.02 GMAC per person more for the light preset's 12 input
    channels), where the light stem filters each input channel alone before mixing them."""

    build_stem = HierarchicalMaskHead.build_stem


class LightResidualBlocksHead(LightHierarchicalMaskHead):
    """:class:`LightHierarchicalMaskHead` with the full head's decoder blocks: two full 3x3 convolutions with a
    shortcut at every decoder stage, where the light head's blocks filter each channel alone between two 1x1
    convolutions (its stem, branches and gates stay the light head's)."""

    blocks = (ResidualBlock,) * 4


class LightCoarseResidualHead(LightHierarchicalMaskHead):
    """:class:`LightHierarchicalMaskHead` with the full head's residual blocks at the coarse decoder stages (strides 8,
    4 and 2 of the ROI, about 0.03 GMAC per person more) and its own separable block at the ROI size, where a full
    block costs the most (about 0.045 more); :class:`LightResidualBlocksHead` has them at every stage."""

    blocks = (ResidualBlock,) * 3 + (SeparableBlock,)


class LightAttentionHead(LightHierarchicalMaskHead):
    """:class:`LightHierarchicalMaskHead` with the full head's two attention modules, which the light head drops for
    latency: the attention gate on the ROI-size skip (the stem's output) and the spatial attention after the
    target/non-target branch's features."""

    gated_stages = HierarchicalMaskHead.gated_stages

    def build_branches(self, c1: int, b: int) -> None:
        super().build_branches(c1, b)
        self.tnt_features = nn.Sequential(self.tnt_features, SpatialAttention())
