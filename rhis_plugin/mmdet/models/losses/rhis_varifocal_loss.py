"""RT-DETR's IoU-aware (varifocal) classification loss for mmdet's DETR heads.

Zhang et al., "VarifocalNet", https://arxiv.org/abs/2008.13367, as RT-DETR uses it for IoU-aware query
selection: BCE toward the IoU of each matched prediction with its GT box at the GT class, 0 elsewhere;
negatives weighted by ``alpha * p**gamma``, positives by their IoU target.

It subclasses ``QualityFocalLoss`` because mmdet's ``DETRHead``/``DINOHead`` hand ``(labels, iou_scores)`` targets
to losses of that type (matching, denoising and encoder-proposal parts alike); only the formula changes.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from mmdet.models.losses import QualityFocalLoss
from mmdet.models.losses.utils import weight_reduce_loss
from mmdet.registry import MODELS

__all__ = ['RHISVarifocalLoss']


@MODELS.register_module()
class RHISVarifocalLoss(QualityFocalLoss):
    def __init__(self, alpha: float = 0.75, gamma: float = 2.0, reduction: str = 'mean',
                 loss_weight: float = 1.0) -> None:
        super().__init__(use_sigmoid=True, reduction=reduction, loss_weight=loss_weight)
        self.alpha = alpha
        self.gamma = gamma

    def forward(self, pred: torch.Tensor, target: tuple[torch.Tensor, torch.Tensor],
                weight: torch.Tensor | None = None, avg_factor: float | None = None,
                reduction_override: str | None = None) -> torch.Tensor:
        """pred [N, C] logits; target (labels [N] with C for background, IoU scores [N]); weight [N]."""
        labels, scores = target
        num_classes = pred.shape[1]
        one_hot = F.one_hot(labels.long(), num_classes + 1)[:, :num_classes].to(pred.dtype)
        score_target = one_hot * scores[:, None].to(pred.dtype)
        prob = pred.sigmoid().detach()
        focal_weight = self.alpha * prob.pow(self.gamma) * (1 - one_hot) + score_target
        loss = F.binary_cross_entropy_with_logits(pred, score_target, reduction='none') * focal_weight
        reduction = reduction_override or self.reduction
        return self.loss_weight * weight_reduce_loss(loss.sum(dim=1), weight, reduction, avg_factor)
