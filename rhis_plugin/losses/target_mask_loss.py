"""TargetMaskLoss: Mask R-CNN's per-pixel BCE mask loss, for binary mask heads trained on RHIS's ROI targets, with
the terms of RHIS's loss that apply to a single-class head (Dice, boundary band) as options.

The options exist so that a baseline can differ from RHIS in one thing: trained with BCE + Dice + boundary, an FCN head
shares RHIS's loss family, and what remains between them is the architecture (the hierarchy, the resolution).
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .rhis_loss import _band
from .segmentation import dice_loss

__all__ = ['TargetMaskLoss']


class TargetMaskLoss(nn.Module):
    """BCE of "this person" against ``targets == 1`` (background and other people are both negatives).

    The logit is ``masks[:, 1] - masks[:, 0]``: exactly the binary logit of the baselines'
    ``[0, z, -inf]`` encoding (:func:`rhis_plugin.models.baselines.binary_to_three_class`).

    Args:
        dice: weight of a Dice term on the person mask (0: plain Mask R-CNN BCE).
        boundary: weight of BCE averaged over a band of ``boundary_width`` mask pixels around the person's border.
        boundary_width: half-width of that band.

    Example:
        >>> loss = TargetMaskLoss(dice=1.0, boundary=0.1)      # RHISLoss's single-class terms, its weights
        >>> sorted(loss({'masks': torch.zeros(2, 3, 28, 28)}, torch.ones(2, 28, 28, dtype=torch.long)))
        ['loss_boundary', 'loss_dice', 'loss_mask']
    """

    def __init__(self, dice: float = 0.0, boundary: float = 0.0, boundary_width: int = 1) -> None:
        super().__init__()
        if dice < 0 or boundary < 0 or boundary_width < 1:
            raise ValueError('dice and boundary weights must be >= 0 and boundary_width >= 1')
        self.dice, self.boundary, self.boundary_width = dice, boundary, boundary_width

    def forward(self, outputs: dict[str, torch.Tensor], targets: torch.Tensor) -> dict[str, torch.Tensor]:
        masks = outputs['masks']
        if masks.shape[-2:] != targets.shape[-2:]:
            raise ValueError(f'mask logits {list(masks.shape)} and targets {list(targets.shape)} differ in size')
        logits = masks[:, 1] - masks[:, 0]
        valid = (targets >= 0).to(logits.dtype)       # -1: ignored (crowd regions)
        person = (targets == 1).to(logits.dtype)
        per_pixel = F.binary_cross_entropy_with_logits(logits, person, reduction='none')
        losses = {'loss_mask': (per_pixel * valid).sum() / valid.sum().clamp(min=1)}
        if self.dice:
            losses['loss_dice'] = self.dice * dice_loss(logits, person, valid)
        if self.boundary:
            band = _band(person.long(), 2, self.boundary_width).to(logits.dtype) * valid
            losses['loss_boundary'] = self.boundary * (per_pixel * band).sum() / band.sum().clamp(min=1)
        return losses
