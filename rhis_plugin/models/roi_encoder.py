"""EfficientNet encoder over each ROI crop (RGB plus the pooled person-probability channel).

A timm EfficientNet cut after its stride-16 stage: the deeper stages would work on 2x2 maps at the ROI
sizes used here and cost parameters for nothing. Parameter names are timm's, so ImageNet weights load with
:func:`rhis_plugin.models.pretrained.load_roi_encoder_weights`.
"""
from __future__ import annotations

import timm
import torch
import torch.nn as nn

__all__ = ['RoIEncoder']


class RoIEncoder(nn.Module):
    """Multi-scale features at strides 2, 4, 8 and 16 of the ROI crop.

    Args:
        model_name: a timm EfficientNet, e.g. ``efficientnet_b0``, ``efficientnet_b1``, ``efficientnet_b7``.
        in_channels: channels of the crop (3 RGB + 1 person probability).
    """

    STAGES = (0, 1, 2, 3)

    def __init__(self, model_name: str = 'efficientnet_b0', in_channels: int = 4) -> None:
        super().__init__()
        self.model_name = model_name
        self.body = timm.create_model(model_name, pretrained=False, in_chans=in_channels, num_classes=0)
        self.body.prune_intermediate_layers(indices=list(self.STAGES), prune_norm=True, prune_head=True)
        info = self.body.feature_info
        self.channels = [info[i]['num_chs'] for i in self.STAGES]
        self.reductions = [info[i]['reduction'] for i in self.STAGES]

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return self.body.forward_intermediates(x, indices=list(self.STAGES), intermediates_only=True)
