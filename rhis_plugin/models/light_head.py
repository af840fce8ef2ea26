"""A lighter hierarchical mask head: the same hierarchy and 3 classes at a tenth of the cost per person.

Where :class:`~rhis_plugin.models.hierarchical_head.HierarchicalMaskHead` spends its MACs (full 3x3 convolutions at
the ROI resolution and twice that), this head uses depthwise-separable blocks (MobileNet's, Howard et al. 2017,
https://arxiv.org/abs/1704.04861) everywhere above stride 4, predicts both branches at the ROI resolution and
upsamples their logits to the mask size, where one small convolution on [upsampled logits | person-probability
guide] restores the edges (added to the upsampled logits, so an untrained refinement is plain upsampling):

    bg/fg logits            [N, 2, h, w] --> edge-guided x2 --> [N, 2, mh, mw]
    target/non-target       [N, 2, h, w] --> edge-guided x2 --> [N, 2, mh, mw]   (trunk gated by the bg/fg features)
    3-class logits          :func:`combine_hierarchical_logits`, as in the full head

Outputs, auxiliary heads and ``features`` are those of the full head, so losses, distillation, export and
paste-back need no change.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from .hierarchical_head import combine_hierarchical_logits
from .layers import CBAM, AttentionGate, ConvBNAct, SpatialAttention

__all__ = ['LightHierarchicalMaskHead', 'SeparableBlock']


def _up(x: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
    return F.interpolate(x, size=tuple(size), mode='bilinear', align_corners=False)


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


class _DecoderStage(nn.Module):
    def __init__(self, in_channels: int, skip_channels: int, out_channels: int) -> None:
        super().__init__()
        self.gate = AttentionGate(skip_channels, in_channels, max(skip_channels // 2, 8))
        self.block = SeparableBlock(in_channels + skip_channels, out_channels)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.block(torch.cat([_up(x, skip.shape[-2:]), self.gate(skip, x)], dim=1))


class _EdgeGuidedUpsample(nn.Module):
    """Logits at the ROI size -> the mask size: bilinear, plus a small correction from [logits | guide]."""

    def __init__(self, channels: int = 2, hidden: int = 8) -> None:
        super().__init__()
        self.refine = nn.Sequential(ConvBNAct(channels + 1, hidden), nn.Conv2d(hidden, channels, 1))

    def forward(self, logits: torch.Tensor, guide: torch.Tensor) -> torch.Tensor:
        up = _up(logits, guide.shape[-2:])
        return up + self.refine(torch.cat([up, guide], dim=1))


class LightHierarchicalMaskHead(nn.Module):
    """Decoder + hierarchical branches, depthwise-separable, predicting at the ROI resolution.

    Args:
        encoder_channels: channels of the encoder features at strides 2, 4, 8, 16.
        stem_in_channels: channels of the ROI-resolution input (RGB, person probability, UNet features).
        decoder_channels: widths at strides 16 (bottleneck), 8, 4, 2 and 1.
        branch_channels: width of the bg/fg and target/non-target branches.
        aux_heads: build the contour and distance heads used by the training losses.
    """

    def __init__(self, encoder_channels: Sequence[int], stem_in_channels: int,
                 decoder_channels: Sequence[int] = (96, 64, 48, 32, 32), branch_channels: int = 24,
                 aux_heads: bool = True) -> None:
        super().__init__()
        if len(encoder_channels) != 4 or len(decoder_channels) != 5:
            raise ValueError('expected 4 encoder widths (strides 2-16) and 5 decoder widths (strides 16-1)')
        c16, c8, c4, c2, c1 = decoder_channels
        b = branch_channels
        self.bottleneck = nn.Sequential(ConvBNAct(encoder_channels[3], c16, 1), CBAM(c16))
        self.stem = nn.Sequential(ConvBNAct(stem_in_channels, stem_in_channels, 3, groups=stem_in_channels),
                                  ConvBNAct(stem_in_channels, c1, 1))
        self.stages = nn.ModuleList([
            _DecoderStage(c16, encoder_channels[2], c8),
            _DecoderStage(c8, encoder_channels[1], c4),
            _DecoderStage(c4, encoder_channels[0], c2),
            _DecoderStage(c2, c1, c1),
        ])
        # Branch 1: background / foreground.
        self.bgfg_features = SeparableBlock(c1, b)
        self.bgfg_out = nn.Conv2d(b, 2, 1)
        self.bgfg_up = _EdgeGuidedUpsample()
        # Branch 2: target / non-target, on the trunk gated by the foreground features.
        self.fg_gate = nn.Sequential(nn.Conv2d(b, c1, 1), nn.Sigmoid())
        self.tnt_features = nn.Sequential(SeparableBlock(c1, b), SpatialAttention())
        self.tnt_out = nn.Conv2d(b, 2, 1)
        self.tnt_up = _EdgeGuidedUpsample()
        self.aux_heads = aux_heads
        if aux_heads:
            self.contour_head = nn.Sequential(ConvBNAct(c1, 16), nn.Conv2d(16, 1, 1))
            self.distance_head = nn.Sequential(ConvBNAct(c1, 16), nn.Conv2d(16, 1, 1))

    def forward(self, features: Sequence[torch.Tensor], stem_input: torch.Tensor, guide: torch.Tensor,
                with_aux: bool = False) -> dict[str, torch.Tensor]:
        """features: encoder maps at strides 2-16; stem_input: [N, C, h, w]; guide: [N, 1, mh, mw]."""
        mask_size = guide.shape[-2:]
        x = self.bottleneck(features[3])
        for stage, skip in zip(self.stages, (features[2], features[1], features[0], self.stem(stem_input))):
            x = stage(x, skip)
        trunk = x

        bgfg = self.bgfg_features(trunk)
        bgfg_logits = self.bgfg_up(self.bgfg_out(bgfg), guide)
        tnt = self.tnt_features(trunk * self.fg_gate(bgfg))
        tnt_logits = self.tnt_up(self.tnt_out(tnt), guide)

        out = {'masks': combine_hierarchical_logits(bgfg_logits, tnt_logits),
               'bgfg_logits': bgfg_logits, 'tnt_logits': tnt_logits, 'features': trunk}
        if with_aux and self.aux_heads:
            out['contour_logits'] = _up(self.contour_head(trunk), mask_size)
            out['distance'] = _up(self.distance_head(trunk), mask_size)
        return out
