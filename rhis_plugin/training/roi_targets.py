"""ROI targets from instance masks, and box jitter that makes GT boxes look like a detector's."""
from __future__ import annotations

from typing import Sequence

import torch
from torchvision.ops import box_iou, roi_align

__all__ = ['build_roi_targets', 'jitter_boxes', 'match_proposals']


def build_roi_targets(instance_masks: Sequence[torch.Tensor], rois: torch.Tensor, target_index: torch.Tensor,
                      mask_size: tuple[int, int], threshold: float = 0.5,
                      ignore_masks: torch.Tensor | None = None) -> torch.Tensor:
    """3-class targets [N, mh, mw]: 1 = the ROI's own instance, 2 = any other instance, 0 = elsewhere, and -1
    (ignored) where ``ignore_masks`` [B, H, W] (crowd regions) cover a pixel that is not the ROI's own person.

    Args:
        instance_masks: per image, the instance masks [M_b, H, W] (bool or float) at the input resolution.
        rois: [N, 5] (batch_idx, x1, y1, x2, y2) in pixels of those masks; clip them as the model does.
        target_index: [N] index, within its image's masks, of each ROI's own instance.
        mask_size: (mh, mw) of the model's masks.

    The masks are sampled with RoI Align on the grid the model's crop uses (aligned=True), then thresholded,
    so target and input stay pixel-aligned (no integer crop + nearest resize).
    """
    if rois.ndim != 2 or rois.shape[1] != 5 or target_index.shape != (rois.shape[0],):
        raise ValueError(f'need rois [N, 5] and target_index [N], got {list(rois.shape)} and '
                         f'{list(target_index.shape)}')
    targets = torch.zeros((rois.shape[0], *mask_size), dtype=torch.long, device=rois.device)
    batch_idx = rois[:, 0].long()
    for image, masks in enumerate(instance_masks):
        rows = (batch_idx == image).nonzero().flatten()
        if len(rows) == 0:
            continue
        if masks.shape[0] == 0:
            raise ValueError(f'image {image} has ROIs but no instance masks')
        local = rois[rows].clone()
        local[:, 0] = 0
        pooled = roi_align(masks[None].float().to(rois.device), local, mask_size, spatial_scale=1.0,
                           sampling_ratio=2, aligned=True) >= threshold          # [n, M, mh, mw]
        own_index = target_index[rows].to(rois.device)
        if (own_index < 0).any() or (own_index >= masks.shape[0]).any():
            raise ValueError(f'target_index out of range for image {image} with {masks.shape[0]} instances')
        own = pooled[torch.arange(len(rows), device=rois.device), own_index]
        pooled[torch.arange(len(rows), device=rois.device), own_index] = False
        others = pooled.any(dim=1)
        targets[rows] = torch.where(own, 1, torch.where(others, 2, 0))
        if ignore_masks is not None and ignore_masks[image].any():
            crowd = roi_align(ignore_masks[image][None, None].float().to(rois.device), local, mask_size,
                              spatial_scale=1.0, sampling_ratio=2, aligned=True)[:, 0] >= threshold
            targets[rows] = torch.where(crowd & ~own, -1, targets[rows])
    return targets


def jitter_boxes(boxes: torch.Tensor, image_size: tuple[int, int], scale_sigma: float = 0.1,
                 shift_sigma: float = 0.06, generator: torch.Generator | None = None) -> torch.Tensor:
    """Random scale (log-normal, per side length) and shift (fraction of the side) of [N, 4] pixel boxes.

    The result is clipped to the image and keeps at least 1 pixel of width and height.
    """
    if boxes.numel() == 0:
        return boxes.clone()
    height, width = image_size
    size = (boxes[:, 2:] - boxes[:, :2]).clamp(min=1.0)
    centre = (boxes[:, 2:] + boxes[:, :2]) / 2
    noise = torch.randn((len(boxes), 4), generator=generator).to(boxes)
    centre = centre + noise[:, :2] * shift_sigma * size
    size = size * torch.exp(noise[:, 2:] * scale_sigma)
    jittered = torch.cat([centre - size / 2, centre + size / 2], dim=1)
    limit = boxes.new_tensor([width, height, width, height])
    jittered = torch.minimum(jittered.clamp(min=0), limit)
    jittered[:, 2:] = torch.maximum(jittered[:, 2:], jittered[:, :2] + 1).minimum(limit[2:])
    jittered[:, :2] = torch.minimum(jittered[:, :2], jittered[:, 2:] - 1).clamp(min=0)
    return jittered


def match_proposals(proposals: torch.Tensor, gt_boxes: torch.Tensor, limit: int,
                    iou_thr: float = 0.5) -> tuple[torch.Tensor, torch.Tensor]:
    """Detector boxes overlapping a GT box by at least ``iou_thr`` (at most ``limit``), with that GT box's index."""
    if len(proposals) == 0 or len(gt_boxes) == 0:
        return proposals.new_zeros((0, 4)), torch.zeros(0, dtype=torch.long, device=proposals.device)
    iou, matched = box_iou(proposals.float(), gt_boxes.float()).max(dim=1)
    good = (iou >= iou_thr).nonzero().flatten()[:limit]
    return proposals[good].float(), matched[good]
