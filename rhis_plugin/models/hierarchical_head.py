"""Hierarchical UNet-style mask head: bg/fg first, then target/non-target inside the foreground.

The decoder climbs from the encoder's stride-16 features to the ROI resolution through attention-gated skips
and residual blocks, then two light branches predict at twice the ROI resolution:

    bg/fg logits            [N, 2, mh, mw]
    target/non-target       [N, 2, mh, mw]   (gated by the bg/fg features)
    3-class logits  z0 = bg,  z1 = fg + t * p_fg,  z2 = fg + nt * p_fg,  p_fg = softmax(bg/fg)[fg]

which is the reference implementation's combination, built with a concatenation instead of in-place writes
(no ScatterND in ONNX). Unlike the reference, nothing runs wide convolutions at full ROI resolution: the
widest layers work at strides 8-16, the full-resolution ones have 32 channels or fewer.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from .layers import CBAM, AttentionGate, ConvBNAct, ResidualBlock, SpatialAttention

__all__ = ['HierarchicalMaskHead', 'combine_hierarchical_logits']


def combine_hierarchical_logits(bgfg_logits: torch.Tensor, tnt_logits: torch.Tensor) -> torch.Tensor:
    """3-class logits (background, target, non-target) from the two branches, as in the reference.

    The foreground probability of the 2-class softmax is computed as ``sigmoid(fg - bg)`` (the same value): a softmax
    over the channel axis costs ONNX Runtime a transposition of the whole map."""
    bg, fg = bgfg_logits[:, 0:1], bgfg_logits[:, 1:2]
    p_fg = torch.sigmoid(fg - bg)
    return torch.cat([bg, fg + tnt_logits[:, 0:1] * p_fg, fg + tnt_logits[:, 1:2] * p_fg], dim=1)


def _up(x: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
    return F.interpolate(x, size=tuple(size), mode='bilinear', align_corners=False)


class _DecoderStage(nn.Module):
    """Upsample, concatenate the (attention-gated, unless ``gated=False``) skip, one block."""

    def __init__(self, in_channels: int, skip_channels: int, out_channels: int, block: type = ResidualBlock,
                 gated: bool = True) -> None:
        super().__init__()
        self.gate = AttentionGate(skip_channels, in_channels, max(skip_channels // 2, 8)) if gated else None
        self.block = block(in_channels + skip_channels, out_channels)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        if self.gate is not None:
            skip = self.gate(skip, x)
        return self.block(torch.cat([_up(x, skip.shape[-2:]), skip], dim=1))


class HierarchicalMaskHead(nn.Module):
    """Decoder + hierarchical branches.

    Subclasses change each decoder stage's block (``blocks``), which stages gate their skips (``gated_stages``), the
    stem and the branches' output layers (:meth:`build_branches`, :meth:`branch_logits`); the decoder, the gating of
    branch 2 by branch 1 and the outputs stay this class's.

    Args:
        encoder_channels: channels of the encoder features at strides 2, 4, 8, 16.
        stem_in_channels: channels of the ROI-resolution input (RGB, person probability, UNet features).
        decoder_channels: widths at strides 16 (bottleneck), 8, 4, 2 and 1.
        branch_channels: width of the bg/fg and target/non-target branches.
        aux_heads: build the contour and distance heads used by the training losses.
    """

    blocks: tuple[type, ...] = (ResidualBlock,) * 4                # decoder blocks at strides 8, 4, 2, 1
    gated_stages: tuple[bool, ...] = (True, True, True, True)    # attention gates at strides 8, 4, 2, 1

    def __init__(self, encoder_channels: Sequence[int], stem_in_channels: int,
                 decoder_channels: Sequence[int] = (96, 64, 48, 32, 32), branch_channels: int = 24,
                 aux_heads: bool = True) -> None:
        super().__init__()
        if len(encoder_channels) != 4 or len(decoder_channels) != 5:
            raise ValueError('expected 4 encoder widths (strides 2-16) and 5 decoder widths (strides 16-1)')
        c16, c8, c4, c2, c1 = decoder_channels
        self.bottleneck = nn.Sequential(ConvBNAct(encoder_channels[3], c16, 1), CBAM(c16))
        self.stem = self.build_stem(stem_in_channels, c1)
        widths = ((c16, encoder_channels[2], c8), (c8, encoder_channels[1], c4), (c4, encoder_channels[0], c2),
                  (c2, c1, c1))    # (input, skip, output) at strides 8, 4, 2, 1
        self.stages = nn.ModuleList([_DecoderStage(*channels, block, gated)
                                     for channels, block, gated in zip(widths, self.blocks, self.gated_stages)])
        self.build_branches(c1, branch_channels)
        self.aux_heads = aux_heads
        if aux_heads:
            self.contour_head = nn.Sequential(ConvBNAct(c1, 16), nn.Conv2d(16, 1, 1))
            self.distance_head = nn.Sequential(ConvBNAct(c1, 16), nn.Conv2d(16, 1, 1))

    def build_stem(self, in_channels: int, out_channels: int) -> nn.Module:
        return nn.Sequential(ConvBNAct(in_channels, out_channels), ConvBNAct(out_channels, out_channels))

    def build_branches(self, c1: int, b: int) -> None:
        """Branch 1, background / foreground: ``bgfg_features`` (trunk -> b channels) and its output layers; branch 2,
        target / non-target: ``tnt_features`` on the trunk gated by ``fg_gate`` (from branch 1's features) and its
        output layers."""
        # The person-probability guide at mask resolution sharpens edges.
        self.bgfg_features = ConvBNAct(c1, b)
        self.bgfg_out = nn.Sequential(ConvBNAct(b + 1, b // 2 + 4), nn.Conv2d(b // 2 + 4, 2, 1))
        self.fg_gate = nn.Sequential(nn.Conv2d(b, c1, 1), nn.Sigmoid())
        self.tnt_features = nn.Sequential(ResidualBlock(c1), SpatialAttention())
        self.tnt_out = nn.Sequential(ConvBNAct(c1 + 1, b // 2 + 4), nn.Conv2d(b // 2 + 4, 2, 1))

    def branch_logits(self, bgfg: torch.Tensor, tnt: torch.Tensor, guide: torch.Tensor
                      ) -> tuple[torch.Tensor, torch.Tensor]:
        """Both branches' 2-class logits at the mask size from their features and the edge guide."""
        return tuple(out(torch.cat([_up(features, guide.shape[-2:]), guide], dim=1))
                     for out, features in ((self.bgfg_out, bgfg), (self.tnt_out, tnt)))

    def forward(self, features: Sequence[torch.Tensor], stem_input: torch.Tensor, guide: torch.Tensor,
                with_aux: bool = False) -> dict[str, torch.Tensor]:
        """features: encoder maps at strides 2-16; stem_input: [N, C, h, w]; guide: [N, 1, mh, mw]."""
        mask_size = guide.shape[-2:]
        x = self.bottleneck(features[3])
        for stage, skip in zip(self.stages, (features[2], features[1], features[0], self.stem(stem_input))):
            x = stage(x, skip)
        trunk = x

        bgfg = self.bgfg_features(trunk)
        bgfg_logits, tnt_logits = self.branch_logits(bgfg, self.tnt_features(trunk * self.fg_gate(bgfg)), guide)

        out = {'masks': combine_hierarchical_logits(bgfg_logits, tnt_logits),
               'bgfg_logits': bgfg_logits, 'tnt_logits': tnt_logits, 'features': trunk}
        if with_aux and self.aux_heads:
            out['contour_logits'] = _up(self.contour_head(trunk), mask_size)
            out['distance'] = _up(self.distance_head(trunk), mask_size)
        return out
