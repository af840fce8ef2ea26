"""Hierarchical RHIS loss: every term configurable and reported on its own.

Targets are [N, mh, mw] with 0 background, 1 target person, 2 other persons, and :data:`IGNORE` (-1) for pixels no
term sees (crowd regions, as COCO ignores them). Terms (names in the loss dict):

    loss_bgfg         CE of the bg/fg branch against (target > 0), class weights batch-balanced or fixed
    loss_tnt          CE of the target/non-target branch on foreground pixels only
    loss_ce           3-class CE of the combined logits (optionally class-weighted, e.g. the reference's
                      separation-aware weights 0.538 / 0.750 / 1.712)
    loss_dice         1 - Dice of the target class, per ROI
    loss_consistency  MSE between the bg/fg branch's p(fg) and p(target) + p(non-target) of the combined logits
    loss_boundary     3-class CE averaged over a band around every class transition
    loss_contour      BCE on logits of the contour head against the target person's border band
    loss_distance     smooth L1 of the distance head against the truncated signed Euclidean distance to the
                      target person's border (exact distance transform)

Each value is already multiplied by its weight; the total is their sum. Terms with weight 0 are not computed.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from .distance_transform import signed_distance

__all__ = ['RHISLossConfig', 'RHISLoss', 'SEPARATION_AWARE_WEIGHTS', 'IGNORE']

IGNORE = -1
SEPARATION_AWARE_WEIGHTS = (0.538, 0.750, 1.712)


@dataclass(frozen=True)
class RHISLossConfig:
    """Weights and options of :class:`RHISLoss` (defaults follow the reference's released configs).

    Args:
        bgfg, tnt, ce, dice, consistency, boundary, contour, distance: term weights.
        bgfg_class_weights: ``'batch_balanced'`` (inverse frequency in the batch, clamped to [0.5, 3], foreground
            x1.2 as in the reference), a (bg, fg) pair, or ``None``.
        ce_class_weights: ``None``, ``'separation_aware'`` or a (bg, target, non-target) triple.
        boundary_width: half-width in mask pixels of the band used by the boundary and contour terms.
        contour_pos_weight: BCE weight of contour pixels (they are rare).
        distance_clip: signed distances are clipped to +-this many mask pixels and scaled to [-1, 1].
    """
    bgfg: float = 1.5
    tnt: float = 1.5
    ce: float = 1.0
    dice: float = 1.0
    consistency: float = 0.3
    boundary: float = 0.1
    contour: float = 0.1
    distance: float = 0.1
    bgfg_class_weights: str | tuple[float, float] | None = 'batch_balanced'
    ce_class_weights: str | tuple[float, float, float] | None = None
    boundary_width: int = 1
    contour_pos_weight: float = 5.0
    distance_clip: float = 10.0

    def __post_init__(self) -> None:
        for name in ('bgfg', 'tnt', 'ce', 'dice', 'consistency', 'boundary', 'contour', 'distance'):
            if getattr(self, name) < 0:
                raise ValueError(f'loss weight {name} must be >= 0, got {getattr(self, name)}')
        if isinstance(self.bgfg_class_weights, str) and self.bgfg_class_weights != 'batch_balanced':
            raise ValueError(f"bgfg_class_weights must be 'batch_balanced', a pair or None, "
                             f'got {self.bgfg_class_weights!r}')
        if isinstance(self.ce_class_weights, str) and self.ce_class_weights != 'separation_aware':
            raise ValueError(f"ce_class_weights must be 'separation_aware', a triple or None, "
                             f'got {self.ce_class_weights!r}')
        if self.boundary_width < 1 or self.distance_clip <= 0:
            raise ValueError('boundary_width must be >= 1 and distance_clip > 0')


def _band(labels: torch.Tensor, num_classes: int, width: int) -> torch.Tensor:
    """Pixels within ``width`` of a change of label: where dilation and erosion of some one-hot map differ."""
    one_hot = F.one_hot(labels, num_classes).permute(0, 3, 1, 2).float()
    kernel = 2 * width + 1
    dilated = F.max_pool2d(one_hot, kernel, stride=1, padding=width)
    eroded = -F.max_pool2d(-one_hot, kernel, stride=1, padding=width)
    return (dilated != eroded).any(dim=1)


def _masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return (values * mask).sum() / mask.sum().clamp(min=1)


class RHISLoss(nn.Module):
    """Computes the loss dict from the model's training outputs and ROI targets."""

    def __init__(self, cfg: RHISLossConfig = RHISLossConfig()) -> None:
        super().__init__()
        self.cfg = cfg

    def _bgfg_weights(self, fg: torch.Tensor, valid: torch.Tensor) -> torch.Tensor | None:
        option = self.cfg.bgfg_class_weights
        if option is None:
            return None
        if option != 'batch_balanced':
            return fg.new_tensor(option, dtype=torch.float32)
        n_fg = fg.sum().clamp(min=1).float()
        n_bg = (valid.sum() - fg.sum()).clamp(min=1).float()
        total = n_bg + n_fg
        return torch.stack([total / (2 * n_bg), 1.2 * total / (2 * n_fg)]).clamp(0.5, 3.0)

    def _ce_weights(self, reference: torch.Tensor) -> torch.Tensor | None:
        option = self.cfg.ce_class_weights
        if option is None:
            return None
        return reference.new_tensor(SEPARATION_AWARE_WEIGHTS if option == 'separation_aware' else option)

    def forward(self, outputs: dict[str, torch.Tensor], targets: torch.Tensor) -> dict[str, torch.Tensor]:
        cfg = self.cfg
        masks = outputs['masks']
        if targets.shape != (masks.shape[0], *masks.shape[2:]):
            raise ValueError(f'targets must be [N, mh, mw] = {[masks.shape[0], *masks.shape[2:]]}, '
                             f'got {list(targets.shape)}')
        if targets.dtype != torch.long:
            raise ValueError(f'targets must be torch.long class indices, got {targets.dtype}')
        if targets.numel() and (targets.min() < IGNORE or targets.max() > 2):
            raise ValueError('targets must hold class indices 0 (background), 1 (target), 2 (other person) or -1 '
                             '(ignored)')
        weights = {name: getattr(cfg, name) for name in
                   ('bgfg', 'tnt', 'ce', 'dice', 'consistency', 'boundary', 'contour', 'distance')}
        needs = {'bgfg': 'bgfg_logits', 'tnt': 'tnt_logits', 'consistency': 'bgfg_logits',
                 'contour': 'contour_logits', 'distance': 'distance'}
        for name, key in needs.items():
            if weights[name] > 0 and key not in outputs:
                raise ValueError(f"loss term '{name}' needs the model output '{key}' (call the model in training "
                                 f'mode with aux_heads=True, or set the {name} weight to 0)')
        if masks.shape[0] == 0:   # no ROI: zero losses that still reach every output in the graph
            zero = sum(v.sum() for v in outputs.values() if v.requires_grad) * 0.0
            return {f'loss_{name}': zero + masks.new_zeros(()) for name, w in weights.items() if w > 0}

        fg, valid = targets > 0, targets != IGNORE
        valid_f = valid.float()
        losses: dict[str, torch.Tensor] = {}
        probs = None
        if weights['bgfg']:
            losses['loss_bgfg'] = F.cross_entropy(outputs['bgfg_logits'], torch.where(valid, fg.long(), IGNORE),
                                                  weight=self._bgfg_weights(fg, valid), ignore_index=IGNORE)
        if weights['tnt']:
            per_pixel = F.cross_entropy(outputs['tnt_logits'], (targets == 2).long(), reduction='none')
            losses['loss_tnt'] = _masked_mean(per_pixel, fg)
        if weights['ce']:
            losses['loss_ce'] = F.cross_entropy(masks, targets, weight=self._ce_weights(masks), ignore_index=IGNORE)
        if weights['dice'] or weights['consistency']:
            probs = torch.softmax(masks, dim=1)
        if weights['dice']:
            p, t = probs[:, 1] * valid_f, (targets == 1).float()
            dice = (2 * (p * t).sum((1, 2)) + 1.0) / (p.sum((1, 2)) + t.sum((1, 2)) + 1.0)
            losses['loss_dice'] = (1 - dice).mean()
        if weights['consistency']:
            p_fg = torch.softmax(outputs['bgfg_logits'], dim=1)[:, 1]
            losses['loss_consistency'] = _masked_mean((p_fg - probs[:, 1] - probs[:, 2]) ** 2, valid_f)
        if weights['boundary']:
            band = _band(targets.clamp(min=0), 3, cfg.boundary_width) & valid
            per_pixel = F.cross_entropy(masks, targets, reduction='none', ignore_index=IGNORE)
            losses['loss_boundary'] = _masked_mean(per_pixel, band)
        target_person = targets == 1
        if weights['contour']:
            border = _band(target_person.long(), 2, cfg.boundary_width).float()
            per_pixel = F.binary_cross_entropy_with_logits(outputs['contour_logits'][:, 0], border, reduction='none',
                                                           pos_weight=masks.new_tensor(cfg.contour_pos_weight))
            losses['loss_contour'] = _masked_mean(per_pixel, valid_f)
        if weights['distance']:
            with torch.no_grad():
                goal = signed_distance(target_person).clamp(-cfg.distance_clip, cfg.distance_clip) / cfg.distance_clip
            per_pixel = F.smooth_l1_loss(outputs['distance'][:, 0], goal, beta=0.1, reduction='none')
            losses['loss_distance'] = _masked_mean(per_pixel, valid_f)
        return {name: loss * weights[name.removeprefix('loss_')] for name, loss in losses.items()}
