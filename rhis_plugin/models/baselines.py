"""Baselines with the RHIS contract (``forward(images, rois)`` -> 3-class ``masks`` logits), for benchmarks.

- ``fcn``: the standard Mask R-CNN mask head (He et al. 2017): 4 x conv3x3-256, a 2x deconvolution and a 1x1
  conv giving one 28x28 mask logit per ROI, over the *same* RoI Align inputs as RHIS (RGB, person probability
  and UNet features, 14x14). It predicts only "this person"; the other-person class stays empty.
- ``unet_in_box``: the people-seg UNet's person mask cropped to the box (no instance separation).
- ``box_filled``: every pixel of the box is the person.

A binary logit ``z`` becomes 3-class logits ``[0, z, -inf]`` so that softmax gives ``p(target) = sigmoid(z)``:
prediction, paste-back, export and evaluation run through the same code as RHIS.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from .rhis import RHIS, RHISConfig, build_peopleseg

__all__ = ['FCNMaskBaseline', 'UNetInBoxBaseline', 'BoxFilledBaseline', 'binary_to_three_class']

_NEVER = -1e4      # logit of the other-person class for binary models (finite: exports and softmaxes cleanly)


def binary_to_three_class(target_logits: torch.Tensor) -> torch.Tensor:
    """[N, 1, h, w] logits of "this person" -> [N, 3, h, w] logits (background 0, other person never)."""
    return torch.cat([torch.zeros_like(target_logits), target_logits, torch.full_like(target_logits, _NEVER)], 1)


class _Baseline(RHIS):
    """Shares RHIS's frozen people-seg UNet, RoI handling, ``predict`` and export; replaces the head."""

    def __init__(self, cfg: RHISConfig) -> None:
        nn.Module.__init__(self)
        self.cfg = cfg
        self.peopleseg = build_peopleseg(cfg)


class FCNMaskBaseline(_Baseline):
    """Mask R-CNN's FCN mask head; ``cfg.roi_size`` is the RoI Align size (14x14 gives 28x28 masks)."""

    def __init__(self, cfg: RHISConfig, channels: int = 256, num_convs: int = 4) -> None:
        super().__init__(cfg)
        layers, width = [], 4 + self.peopleseg.feature_channels
        for _ in range(num_convs):
            layers += [nn.Conv2d(width, channels, 3, padding=1), nn.ReLU(inplace=True)]
            width = channels
        self.convs = nn.Sequential(*layers)
        self.upsample = nn.Sequential(nn.ConvTranspose2d(channels, channels, 2, stride=2), nn.ReLU(inplace=True))
        self.predictor = nn.Conv2d(channels, 1, 1)
        for module in [*self.convs, *self.upsample, self.predictor]:
            if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.kaiming_normal_(module.weight, mode='fan_out', nonlinearity='relu')
                nn.init.zeros_(module.bias)

    @property
    def feature_channels(self) -> int:
        return self.upsample[0].out_channels

    def forward_rois(self, images, person_logits, unet_features, frame_boxes, working_boxes) -> dict[str, torch.Tensor]:
        pooled, _ = self.crop_inputs(images, person_logits, unet_features, frame_boxes, working_boxes)
        features = self.upsample(self.convs(pooled))
        return {'masks': binary_to_three_class(self.predictor(features)), 'features': features}


class UNetInBoxBaseline(_Baseline):
    """The UNet's person logits, RoI-aligned to the mask size: everyone in the box counts as the target."""

    def forward_rois(self, images, person_logits, unet_features, frame_boxes, working_boxes) -> dict[str, torch.Tensor]:
        return {'masks': binary_to_three_class(self.roi_align(person_logits, working_boxes, self.mask_size))}


class BoxFilledBaseline(_Baseline):
    """The whole box is the person (a confident constant logit)."""

    def forward_rois(self, images, person_logits, unet_features, frame_boxes, working_boxes) -> dict[str, torch.Tensor]:
        logits = person_logits.new_full((frame_boxes.shape[0], 1, *self.mask_size), 10.0)
        return {'masks': binary_to_three_class(logits)}
