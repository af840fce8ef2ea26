"""Framework-free training and evaluation of the people-seg UNet (RHIS stage 1) on a COCO person folder.

The mmengine path (``configs/mmdet/peopleseg/``) is the full one; this is the short path benchmarks use to get a
trained UNet before training heads on top of it.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch.utils.data import DataLoader, Dataset

from ..data.binary_seg_eval import BinarySegAccumulator
from ..data.coco_dataset import collate_samples
from ..losses.segmentation import PeopleSegLoss
from ..models.peopleseg_unet import PeopleSegUNet
from .trainer import TrainConfig, optimise, train_loader

__all__ = ['union_targets', 'train_peopleseg', 'evaluate_peopleseg']


def union_targets(batch: dict, device: str | torch.device = 'cpu') -> tuple[torch.Tensor, torch.Tensor]:
    """Union of each image's person masks [B, 1, H, W] and the valid region (not letterbox padding, not crowd)."""
    images = batch['images']
    target = torch.zeros((images.shape[0], 1, *images.shape[-2:]), device=device)
    valid = torch.zeros_like(target)
    for i, (masks, scale, (height, width)) in enumerate(zip(batch['masks'], batch['scale'], batch['orig_size'])):
        if len(masks):
            target[i, 0] = masks.any(0).to(device).float()
        valid[i, :, :max(1, round(height * scale)), :max(1, round(width * scale))] = 1
    if 'crowd' in batch:            # crowd regions are neither person nor background
        valid = valid * (~batch['crowd'][:, None]).to(device).float()
    return target, valid


def train_peopleseg(unet: PeopleSegUNet, dataset: Dataset, cfg: TrainConfig = TrainConfig(),
                    loss_fn: PeopleSegLoss | None = None, device: str | torch.device = 'cpu',
                    log: Callable[[str], None] = print,
                    on_step: Callable[[int], None] | None = None) -> list[dict[str, float]]:
    """Trains ``unet`` (all of it) on the union of person masks. Returns the loss history. ``on_step(iterations)``
    runs after every iteration; a callback that evaluates the UNet leaves it in training mode again."""
    if unet.frozen:
        raise ValueError('the UNet is frozen; build it with frozen=False to train it')
    torch.manual_seed(cfg.seed)
    loss_fn = loss_fn or PeopleSegLoss()
    unet.to(device).train()

    def loss_step(batch: dict) -> dict:
        target, valid = union_targets(batch, device)
        logits, _ = unet(batch['images'].to(device))
        return loss_fn(logits, target, valid)

    history = optimise([p for p in unet.parameters() if p.requires_grad], train_loader(dataset, cfg), loss_step, cfg,
                       log, on_step, model=unet)
    unet.weights_origin = 'trained'
    return history


@torch.no_grad()
def evaluate_peopleseg(unet: PeopleSegUNet, dataset: Dataset, threshold: float = 0.5,
                       refine: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
                       device: str | torch.device = 'cpu') -> dict[str, float]:
    """Binary IoU, Dice, precision, recall, accuracy and AUROC over ``dataset`` (one image at a time, any size).

    ``refine(images, prob)`` post-processes the probability map (e.g. a guided filter) before scoring.
    """
    unet.to(device).eval()
    accumulator = BinarySegAccumulator(threshold)
    for batch in DataLoader(dataset, batch_size=1, collate_fn=collate_samples):
        images = batch['images'].to(device)
        prob = torch.sigmoid(unet(images)[0])
        if refine is not None:
            prob = refine(images, prob).clamp(0, 1)
        target, valid = union_targets(batch, device)
        accumulator.add(prob[0, 0], target[0, 0], valid[0, 0])
    return accumulator.evaluate()
