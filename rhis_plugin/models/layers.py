"""Building blocks shared by the RHIS heads: conv-BN-act, residual blocks and attention.

Attention follows two papers:
- attention gates on skip connections, Oktay et al., "Attention U-Net", https://arxiv.org/abs/1804.03999
- channel + spatial attention, Woo et al., "CBAM", https://arxiv.org/abs/1807.06521
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ['ConvBNAct', 'ResidualBlock', 'AttentionGate', 'ChannelAttention', 'SpatialAttention', 'CBAM']


class ConvBNAct(nn.Sequential):
    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1,
                 groups: int = 1, act: bool = True) -> None:
        super().__init__(
            nn.Conv2d(in_channels, out_channels, kernel_size, stride, kernel_size // 2, groups=groups, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True) if act else nn.Identity(),
        )


class ResidualBlock(nn.Module):
    """Two 3x3 convs with an identity (or 1x1 projection) shortcut."""

    def __init__(self, in_channels: int, out_channels: int | None = None) -> None:
        super().__init__()
        out_channels = out_channels or in_channels
        self.conv1 = ConvBNAct(in_channels, out_channels)
        self.conv2 = ConvBNAct(out_channels, out_channels, act=False)
        self.shortcut = nn.Identity() if in_channels == out_channels else ConvBNAct(in_channels, out_channels, 1,
                                                                                     act=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.conv2(self.conv1(x)) + self.shortcut(x))


class AttentionGate(nn.Module):
    """Weights a skip feature by a map computed from it and the coarser decoder feature (the gating signal)."""

    def __init__(self, skip_channels: int, gate_channels: int, inner_channels: int) -> None:
        super().__init__()
        self.skip_proj = nn.Conv2d(skip_channels, inner_channels, 1, bias=False)
        self.gate_proj = nn.Conv2d(gate_channels, inner_channels, 1, bias=True)
        self.score = nn.Conv2d(inner_channels, 1, 1)

    def forward(self, skip: torch.Tensor, gate: torch.Tensor) -> torch.Tensor:
        gate = F.interpolate(self.gate_proj(gate), size=skip.shape[-2:], mode='bilinear', align_corners=False)
        attention = torch.sigmoid(self.score(F.relu(self.skip_proj(skip) + gate)))
        return skip * attention


class ChannelAttention(nn.Module):
    def __init__(self, channels: int, reduction: int = 4) -> None:
        super().__init__()
        hidden = max(channels // reduction, 8)
        self.mlp = nn.Sequential(nn.Conv2d(channels, hidden, 1), nn.ReLU(inplace=True), nn.Conv2d(hidden, channels, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = self.mlp(x.mean((2, 3), keepdim=True)) + self.mlp(x.amax((2, 3), keepdim=True))
        return x * torch.sigmoid(pooled)


class SpatialAttention(nn.Module):
    def __init__(self, kernel_size: int = 7) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        stats = torch.cat([x.mean(1, keepdim=True), x.amax(1, keepdim=True)], dim=1)
        return x * torch.sigmoid(self.conv(stats))


class CBAM(nn.Sequential):
    def __init__(self, channels: int, reduction: int = 4) -> None:
        super().__init__(ChannelAttention(channels, reduction), SpatialAttention())
