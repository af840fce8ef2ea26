"""TargetMaskLoss: Mask R-CNN's per-pixel BCE mask loss, for binary mask heads trained on RHIS's ROI targets."""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ['TargetMaskLoss']


class TargetMaskLoss(nn.Module):
    """BCE of "this person" against ``targets == 1`` (background and other people are both negatives).

    The logit is ``masks[:, 1] - masks[:, 0]``: exactly the binary logit of the baselines'
    ``[0, z, -inf]`` encoding (:func:`rhis_plugin.models.baselines.binary_to_three_class`).
    """

    def forward(self, outputs: dict[str, torch.Tensor], targets: torch.Tensor) -> dict[str, torch.Tensor]:
        masks = outputs['masks']
        if masks.shape[-2:] != targets.shape[-2:]:
            raise ValueError(f'mask logits {list(masks.shape)} and targets {list(targets.shape)} differ in size')
        logits = masks[:, 1] - masks[:, 0]
        valid = (targets >= 0).to(logits.dtype)       # -1: ignored (crowd regions)
        per_pixel = F.binary_cross_entropy_with_logits(logits, (targets == 1).to(logits.dtype), reduction='none')
        return {'loss_mask': (per_pixel * valid).sum() / valid.sum().clamp(min=1)}
