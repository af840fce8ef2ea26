"""RT-DETR's hybrid encoder as an mmdet neck.

Zhao et al., "DETRs Beat YOLOs on Real-time Object Detection", https://arxiv.org/abs/2304.08069:
- AIFI: one transformer encoder layer, intra-scale attention on the deepest (stride-32) feature only;
- CCFM: cross-scale fusion, a top-down then bottom-up path of CSP blocks built from RepVGG blocks.

Module and parameter names follow the official implementation (``input_proj``, ``encoder.0.layers.0``,
``lateral_convs``, ``fpn_blocks``, ``downsample_convs``, ``pan_blocks``; ``conv``/``norm`` inside each
conv layer), so converted official weights can be loaded into it.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmdet.registry import MODELS
from mmengine.model import BaseModule

__all__ = ['RHISHybridEncoder']


def _activation(name: str | None) -> nn.Module:
    return {'silu': nn.SiLU(), 'relu': nn.ReLU(), 'gelu': nn.GELU(), None: nn.Identity()}[name]


class ConvNormLayer(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 act: str | None = None) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, (kernel_size - 1) // 2, bias=False)
        self.norm = nn.BatchNorm2d(out_channels)
        self.act = _activation(act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.norm(self.conv(x)))


class RepVggBlock(nn.Module):
    """3x3 and 1x1 branches summed (re-parameterisable into one 3x3 conv for deployment)."""

    def __init__(self, channels: int, act: str = 'silu') -> None:
        super().__init__()
        self.conv1 = ConvNormLayer(channels, channels, 3)
        self.conv2 = ConvNormLayer(channels, channels, 1)
        self.act = _activation(act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv1(x) + self.conv2(x))


class CSPRepLayer(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, num_blocks: int = 3, expansion: float = 1.0,
                 act: str = 'silu') -> None:
        super().__init__()
        hidden = int(out_channels * expansion)
        self.conv1 = ConvNormLayer(in_channels, hidden, 1, act=act)
        self.conv2 = ConvNormLayer(in_channels, hidden, 1, act=act)
        self.bottlenecks = nn.Sequential(*[RepVggBlock(hidden, act) for _ in range(num_blocks)])
        self.conv3 = ConvNormLayer(hidden, out_channels, 1, act=act) if hidden != out_channels else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv3(self.bottlenecks(self.conv1(x)) + self.conv2(x))


class TransformerEncoderLayer(nn.Module):
    """Post-norm transformer encoder layer; the positional embedding is added to queries and keys."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int, dropout: float = 0.0,
                 activation: str = 'gelu') -> None:
        super().__init__()
        self.self_attn = nn.MultiheadAttention(d_model, nhead, dropout=dropout, batch_first=True)
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.dropout = nn.Dropout(dropout)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        self.activation = _activation(activation)

    def forward(self, src: torch.Tensor, pos_embed: torch.Tensor) -> torch.Tensor:
        q = k = src + pos_embed
        src = self.norm1(src + self.dropout1(self.self_attn(q, k, value=src, need_weights=False)[0]))
        ffn = self.linear2(self.dropout(self.activation(self.linear1(src))))
        return self.norm2(src + self.dropout2(ffn))


class TransformerEncoder(nn.Module):
    def __init__(self, layer_kwargs: dict, num_layers: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList([TransformerEncoderLayer(**layer_kwargs) for _ in range(num_layers)])

    def forward(self, src: torch.Tensor, pos_embed: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            src = layer(src, pos_embed)
        return src


def sincos_position_embedding_2d(height: int, width: int, dim: int, temperature: float = 10000.0,
                                 device: torch.device | None = None) -> torch.Tensor:
    """[1, H*W, dim] fixed embedding; the coordinate layout matches the official RT-DETR code."""
    if dim % 4:
        raise ValueError(f'embedding dim must be divisible by 4, got {dim}')
    grid_w, grid_h = torch.meshgrid(torch.arange(width, dtype=torch.float32, device=device),
                                    torch.arange(height, dtype=torch.float32, device=device), indexing='ij')
    omega = 1.0 / temperature ** (torch.arange(dim // 4, dtype=torch.float32, device=device) / (dim // 4))
    out_w = grid_w.flatten()[:, None] * omega[None]
    out_h = grid_h.flatten()[:, None] * omega[None]
    return torch.cat([out_w.sin(), out_w.cos(), out_h.sin(), out_h.cos()], dim=1)[None]


@MODELS.register_module()
class RHISHybridEncoder(BaseModule):
    """AIFI + CCFM over backbone features (strides 8, 16, 32); returns ``len(in_channels)`` maps of
    ``hidden_dim`` channels at the input strides.

    Args:
        in_channels: channels of the backbone outputs, shallow to deep.
        hidden_dim: width of every output (the decoder's embed_dims).
        use_encoder_idx: levels that get intra-scale attention (RT-DETR: the deepest only).
        num_encoder_layers, nhead, dim_feedforward, dropout, enc_act: the AIFI transformer.
        expansion, depth_mult, act: CSP block width factor, RepVGG block count factor (3 blocks at 1.0), activation.
        pe_temperature: temperature of the 2D sine-cosine embedding.
    """

    def __init__(self, in_channels: Sequence[int] = (512, 1024, 2048), hidden_dim: int = 256,
                 use_encoder_idx: Sequence[int] = (2,), num_encoder_layers: int = 1, nhead: int = 8,
                 dim_feedforward: int = 1024, dropout: float = 0.0, enc_act: str = 'gelu', expansion: float = 1.0,
                 depth_mult: float = 1.0, act: str = 'silu', pe_temperature: float = 10000.0,
                 init_cfg: dict | None = None) -> None:
        super().__init__(init_cfg)
        self.in_channels = list(in_channels)
        self.hidden_dim = hidden_dim
        self.use_encoder_idx = list(use_encoder_idx)
        self.pe_temperature = pe_temperature
        levels = len(self.in_channels)
        if any(not 0 <= i < levels for i in self.use_encoder_idx):
            raise ValueError(f'use_encoder_idx {self.use_encoder_idx} must index the {levels} input levels')
        self.input_proj = nn.ModuleList([
            nn.Sequential(nn.Conv2d(c, hidden_dim, 1, bias=False), nn.BatchNorm2d(hidden_dim)) for c in in_channels])
        layer = dict(d_model=hidden_dim, nhead=nhead, dim_feedforward=dim_feedforward, dropout=dropout,
                     activation=enc_act)
        self.encoder = nn.ModuleList([TransformerEncoder(layer, num_encoder_layers) for _ in self.use_encoder_idx])
        blocks = round(3 * depth_mult)
        self.lateral_convs = nn.ModuleList([ConvNormLayer(hidden_dim, hidden_dim, 1, act=act)
                                            for _ in range(levels - 1)])
        self.fpn_blocks = nn.ModuleList([CSPRepLayer(2 * hidden_dim, hidden_dim, blocks, expansion, act)
                                         for _ in range(levels - 1)])
        self.downsample_convs = nn.ModuleList([ConvNormLayer(hidden_dim, hidden_dim, 3, stride=2, act=act)
                                               for _ in range(levels - 1)])
        self.pan_blocks = nn.ModuleList([CSPRepLayer(2 * hidden_dim, hidden_dim, blocks, expansion, act)
                                         for _ in range(levels - 1)])

    def forward(self, feats: Sequence[torch.Tensor]) -> tuple[torch.Tensor, ...]:
        if len(feats) != len(self.in_channels):
            raise ValueError(f'RHISHybridEncoder expects {len(self.in_channels)} feature maps, got {len(feats)}')
        proj = [conv(feat) for conv, feat in zip(self.input_proj, feats)]
        for encoder, level in zip(self.encoder, self.use_encoder_idx):
            batch, _, height, width = proj[level].shape
            tokens = proj[level].flatten(2).permute(0, 2, 1)
            pos = sincos_position_embedding_2d(height, width, self.hidden_dim, self.pe_temperature, tokens.device)
            memory = encoder(tokens, pos.to(tokens.dtype))
            proj[level] = memory.permute(0, 2, 1).reshape(batch, self.hidden_dim, height, width)

        # Top-down: deep to shallow.
        inner = [proj[-1]]
        for step, level in enumerate(range(len(proj) - 1, 0, -1)):
            high = self.lateral_convs[step](inner[0])
            inner[0] = high
            low = proj[level - 1]
            up = F.interpolate(high, size=low.shape[-2:], mode='nearest')
            inner.insert(0, self.fpn_blocks[step](torch.cat([up, low], dim=1)))
        # Bottom-up: shallow to deep.
        outs = [inner[0]]
        for step in range(len(proj) - 1):
            high = inner[step + 1]
            down = self.downsample_convs[step](outs[-1])
            if down.shape[-2:] != high.shape[-2:]:
                down = F.interpolate(down, size=high.shape[-2:], mode='nearest')
            outs.append(self.pan_blocks[step](torch.cat([down, high], dim=1)))
        return tuple(outs)
