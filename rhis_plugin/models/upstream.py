"""The reference implementation's architecture (PINTO0309/human-instance-segmentation), as a baseline.

Reproduces ``HierarchicalRGBSegmentationModelWithFullImagePretrainedUNet`` with its
``ExtendedHierarchicalSegmentationHeadUNetV2`` head (see ../shared/docs/upstream_rhis.md, section 1): a stride-1
RGB conv stack to 256 channels, a 256-channel shared trunk, an EnhancedUNet bg/fg branch and an attention
target branch, all at full ROI resolution. About 29 GMAC per ROI at 64x48. Same input/output contract as
:class:`rhis_plugin.models.RHIS`, and the same true RoI Align, so quality and speed compare like for like.
Deliberate fixes: the contour head returns logits (the reference applies a sigmoid twice), and the 3-class
combination uses a concatenation instead of in-place writes.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .hierarchical_head import combine_hierarchical_logits
from .layers import ConvBNAct, ResidualBlock, SpatialAttention
from .rhis import RHIS, RHISConfig, build_peopleseg

__all__ = ['UpstreamRHIS']


class _SqueezeExcite(nn.Module):
    def __init__(self, channels: int, reduction: int = 8) -> None:
        super().__init__()
        self.fc = nn.Sequential(nn.Conv2d(channels, channels // reduction, 1, bias=False), nn.ReLU(inplace=True),
                                nn.Conv2d(channels // reduction, channels, 1, bias=False), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.fc(x.mean((2, 3), keepdim=True))


class _EnhancedUNet(nn.Module):
    """The reference's bg/fg branch: a 3-level UNet with an attention bottleneck, channels (64, 128, 256)."""

    def __init__(self, in_channels: int = 256, base: int = 64, depth: int = 3) -> None:
        super().__init__()
        chans = [base * 2 ** i for i in range(depth)]
        self.encoders = nn.ModuleList([nn.Sequential(ConvBNAct(in_channels, chans[0]), ResidualBlock(chans[0]),
                                                     ResidualBlock(chans[0]))])
        for i in range(1, depth):
            self.encoders.append(nn.Sequential(ResidualBlock(chans[i - 1]), ResidualBlock(chans[i - 1]),
                                               ConvBNAct(chans[i - 1], chans[i])))
        c = chans[-1]
        self.attention = nn.Sequential(ResidualBlock(c), ResidualBlock(c), ConvBNAct(c, c), nn.Conv2d(c, c, 1),
                                       nn.Sigmoid())
        self.bottleneck = nn.Conv2d(c, c, 3, padding=1)
        self.ups = nn.ModuleList()
        self.decoders = nn.ModuleList()
        for i in reversed(range(depth - 1)):
            self.ups.append(nn.ConvTranspose2d(chans[i + 1], chans[i], 2, stride=2))
            self.decoders.append(nn.Sequential(ConvBNAct(2 * chans[i], chans[i]), ResidualBlock(chans[i]),
                                               ResidualBlock(chans[i])))
        self.out = nn.Sequential(ConvBNAct(chans[0], chans[0] // 2), nn.Conv2d(chans[0] // 2, 2, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for i, encoder in enumerate(self.encoders):
            x = encoder(F.max_pool2d(x, 2) if i else x)
            skips.append(x)
        x = self.bottleneck(x) * self.attention(x)
        for up, decoder, skip in zip(self.ups, self.decoders, reversed(skips[:-1])):
            x = F.interpolate(up(x), size=skip.shape[-2:], mode='bilinear', align_corners=False)
            x = decoder(torch.cat([x, skip], dim=1))
        return self.out(x)


class UpstreamRHIS(RHIS):
    """Reference architecture with the RHIS forward contract. ``cfg.roi_encoder`` is unused."""

    def __init__(self, cfg: RHISConfig, mid_channels: int = 256, unet_base: int = 64, unet_depth: int = 3) -> None:
        nn.Module.__init__(self)
        self.cfg = cfg
        c = self.shared_channels = mid_channels
        self.peopleseg = build_peopleseg(cfg)
        self.output_conv = nn.Conv2d(1, 2, 1)          # trainable (+1, -1) view of the frozen logit
        with torch.no_grad():
            self.output_conv.weight.copy_(torch.tensor([1.0, -1.0]).view(2, 1, 1, 1))
            self.output_conv.bias.zero_()
        self.rgb_extractor = nn.Sequential(
            ConvBNAct(3, 64), ResidualBlock(64), ConvBNAct(64, 128), ResidualBlock(128),
            ConvBNAct(128, 256), ResidualBlock(256), ConvBNAct(256, c, 1))
        self.combiner = nn.Conv2d(c + 2, c, 1)
        self.shared = nn.Sequential(ConvBNAct(c, c), nn.Dropout2d(0.1), ResidualBlock(c), nn.Dropout2d(0.1),
                                    ResidualBlock(c))
        self.bgfg_branch = _EnhancedUNet(c, unet_base, unet_depth)
        self.upsample_bgfg = nn.Sequential(nn.ConvTranspose2d(2, 32, 2, stride=2), nn.BatchNorm2d(32),
                                           nn.ReLU(inplace=True), nn.Conv2d(32, 2, 1))
        self.fg_gate = nn.Sequential(nn.Conv2d(2, 64, 1), nn.ReLU(inplace=True), nn.Dropout2d(0.05),
                                     nn.Conv2d(64, 128, 1), nn.ReLU(inplace=True), nn.Conv2d(128, c, 1), nn.Sigmoid())
        self.tnt_branch = nn.Sequential(
            ResidualBlock(c), SpatialAttention(), nn.Dropout2d(0.1), nn.ConvTranspose2d(c, c // 2, 2, stride=2),
            nn.BatchNorm2d(c // 2), nn.ReLU(inplace=True), _SqueezeExcite(c // 2), nn.Dropout2d(0.1),
            ResidualBlock(c // 2), nn.Conv2d(c // 2, 2, 1))
        self.contour_head = nn.Sequential(ConvBNAct(c, 64), ConvBNAct(64, 64), nn.Conv2d(64, 1, 1))
        self.distance_head = nn.Sequential(ConvBNAct(c, 128), ResidualBlock(128), nn.Conv2d(128, 1, 1))

    @property
    def feature_channels(self) -> int:
        return self.shared_channels

    def forward_rois(self, images: torch.Tensor, person_logits: torch.Tensor, unet_features: torch.Tensor,
                     frame_boxes: torch.Tensor, working_boxes: torch.Tensor) -> dict[str, torch.Tensor]:
        pooled = torch.cat([self.roi_align(images, frame_boxes, self.roi_size),
                            self.roi_align(self.output_conv(person_logits), working_boxes, self.roi_size)], dim=1)
        shared = self.shared(self.combiner(torch.cat([self.rgb_extractor(pooled[:, :3]), pooled[:, 3:]], dim=1)))
        bgfg_low = self.bgfg_branch(shared)
        up = dict(size=self.mask_size, mode='bilinear', align_corners=False)
        bgfg_logits = F.interpolate(self.upsample_bgfg(bgfg_low), **up)
        tnt_logits = self.tnt_branch(shared * self.fg_gate(bgfg_low))
        out = {'masks': combine_hierarchical_logits(bgfg_logits, tnt_logits), 'bgfg_logits': bgfg_logits,
               'tnt_logits': tnt_logits, 'features': shared}
        if self.training:
            out['contour_logits'] = F.interpolate(self.contour_head(shared), **up)
            out['distance'] = F.interpolate(self.distance_head(shared), **up)
        return out
