"""Binary (person / background) segmentation losses for the people-seg UNet.

Every function takes logits [B, 1, H, W] (or [B, H, W]), a {0, 1} target of the same shape and an optional
``valid`` mask of pixels that count (padding and crowd regions left out). Region losses are computed per
image and averaged, so a small person weighs as much as a large one.

    dice_loss               1 - Dice (F1) of the soft prediction
    tversky_loss            1 - Tversky index; alpha weighs false positives, beta false negatives
                            (Salehi et al. 2017; alpha 0.3, beta 0.7 favours recall)
    generalized_dice_loss   Generalized Dice over both classes, each weighted by 1 / volume^2 (Sudre et al. 2017)
    boundary_loss           Kervadec et al. 2019 on a signed distance map (> 0 inside, pixels), shifted so a
                            perfect prediction scores exactly 0; same gradient as the original form
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ['dice_loss', 'tversky_loss', 'generalized_dice_loss', 'boundary_loss', 'PeopleSegLossConfig',
           'PeopleSegLoss', 'REGION_LOSSES']

_SMOOTH = 1.0


def _flat(logits: torch.Tensor, target: torch.Tensor, valid: torch.Tensor | None):
    if logits.shape != target.shape:
        raise ValueError(f'logits {list(logits.shape)} and target {list(target.shape)} must have the same shape')
    p = torch.sigmoid(logits).flatten(1)
    t = target.flatten(1).to(p.dtype)
    v = torch.ones_like(p) if valid is None else valid.flatten(1).to(p.dtype)
    return p * v, t * v, v


def dice_loss(logits: torch.Tensor, target: torch.Tensor, valid: torch.Tensor | None = None) -> torch.Tensor:
    p, t, _ = _flat(logits, target, valid)
    dice = (2 * (p * t).sum(1) + _SMOOTH) / (p.sum(1) + t.sum(1) + _SMOOTH)
    return (1 - dice).mean()


def tversky_loss(logits: torch.Tensor, target: torch.Tensor, valid: torch.Tensor | None = None,
                 alpha: float = 0.3, beta: float = 0.7) -> torch.Tensor:
    p, t, v = _flat(logits, target, valid)
    tp = (p * t).sum(1)
    fp = (p * (v - t)).sum(1)
    fn = ((v - p) * t).sum(1)
    return (1 - (tp + _SMOOTH) / (tp + alpha * fp + beta * fn + _SMOOTH)).mean()


def generalized_dice_loss(logits: torch.Tensor, target: torch.Tensor,
                          valid: torch.Tensor | None = None) -> torch.Tensor:
    p, t, v = _flat(logits, target, valid)
    probs = torch.stack([p, v - p], dim=1)            # [B, 2, HW]: person, background
    labels = torch.stack([t, v - t], dim=1)
    weights = 1.0 / (labels.sum(2) ** 2).clamp(min=1.0)
    inter = (weights * (probs * labels).sum(2)).sum(1)
    total = (weights * (probs + labels).sum(2)).sum(1)
    return (1 - 2 * inter / total.clamp(min=1e-6)).mean()


def boundary_loss(logits: torch.Tensor, signed_distance: torch.Tensor,
                  valid: torch.Tensor | None = None) -> torch.Tensor:
    """Mean over pixels of p * dist_outside + (1 - p) * depth_inside, distances divided by the image's larger side."""
    if logits.shape != signed_distance.shape:
        raise ValueError(f'logits {list(logits.shape)} and signed distance {list(signed_distance.shape)} differ')
    phi = signed_distance / max(signed_distance.shape[-2:])
    p = torch.sigmoid(logits)
    per_pixel = p * phi.clamp(max=0).neg() + (1 - p) * phi.clamp(min=0)
    if valid is None:
        return per_pixel.mean()
    valid = valid.to(per_pixel.dtype)
    return (per_pixel * valid).sum() / valid.sum().clamp(min=1.0)


REGION_LOSSES = {'dice': dice_loss, 'tversky': tversky_loss, 'gdl': generalized_dice_loss}


@dataclass(frozen=True)
class PeopleSegLossConfig:
    """BCE + a region loss (60:40 by default) + a boundary term whose weight a schedule may raise from 0.

    ``pos_weight`` balances BCE for the person pixel ratio (the reference uses 2.274 for COCO's 16.2 %).
    """
    bce_weight: float = 0.6
    region: str = 'tversky'
    region_weight: float = 0.4
    tversky_alpha: float = 0.3
    tversky_beta: float = 0.7
    pos_weight: float | None = None
    boundary_weight: float = 0.0

    def __post_init__(self) -> None:
        if self.region not in REGION_LOSSES:
            raise ValueError(f'region must be one of {sorted(REGION_LOSSES)}, got {self.region!r}')
        if min(self.bce_weight, self.region_weight, self.boundary_weight) < 0:
            raise ValueError('loss weights must be >= 0')


class PeopleSegLoss(nn.Module):
    """Returns ``loss_bce``, ``loss_<region>`` and, while ``boundary_weight`` > 0, ``loss_boundary`` (weighted).

    ``boundary_weight`` is a plain attribute so a schedule (e.g. an mmengine hook) can change it during training.
    """

    def __init__(self, cfg: PeopleSegLossConfig = PeopleSegLossConfig()) -> None:
        super().__init__()
        self.cfg = cfg
        self.boundary_weight = cfg.boundary_weight

    def forward(self, logits: torch.Tensor, target: torch.Tensor, valid: torch.Tensor | None = None,
                signed_distance: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        cfg = self.cfg
        target = target.to(logits.dtype)
        losses = {}
        if cfg.bce_weight:
            pos_weight = None if cfg.pos_weight is None else logits.new_tensor(cfg.pos_weight)
            bce = F.binary_cross_entropy_with_logits(logits, target, pos_weight=pos_weight, reduction='none')
            if valid is not None:
                bce = (bce * valid).sum() / valid.sum().clamp(min=1.0)
            losses['loss_bce'] = cfg.bce_weight * bce.mean()
        if cfg.region_weight:
            extra = dict(alpha=cfg.tversky_alpha, beta=cfg.tversky_beta) if cfg.region == 'tversky' else {}
            losses[f'loss_{cfg.region}'] = cfg.region_weight * REGION_LOSSES[cfg.region](logits, target, valid,
                                                                                          **extra)
        if self.boundary_weight > 0:
            if signed_distance is None:
                raise ValueError('the boundary term needs signed distance maps (PeopleSegTargets in the pipeline)')
            losses['loss_boundary'] = self.boundary_weight * boundary_loss(logits, signed_distance, valid)
        return losses
