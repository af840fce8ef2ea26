"""Copy-paste of people between training images: occlusions the data does not have enough of.

Ghiasi et al., "Simple Copy-Paste is a Strong Data Augmentation Method for Instance Segmentation" (CVPR 2021,
https://arxiv.org/abs/2012.07177): person instances of another training image (their pixels and masks, rescaled and
flipped at random) are pasted onto the image; the people they cover lose those pixels from their masks, and a person
left with less than ``min_visible`` of its area is dropped. RHIS's third class ("other persons in my box") and its
occluded subset are where this matters: a pasted person in front of another is an occluder with an exact mask.

Framework-free (torch tensors, the sample dicts of :class:`~rhis_plugin.data.CocoPersonDataset`); the mmdet
transform ``RHISCopyPaste`` and the framework-free trainer (``TrainConfig.copy_paste``) both call
:func:`copy_paste`. Ultralytics' segmentation pipeline has its own (``rhis-yolo train ... copy_paste=0.5``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from .coco_dataset import mask_boxes

__all__ = ['CopyPasteConfig', 'copy_paste', 'CopyPasteDataset']

INSTANCE_KEYS = ('labels', 'ignore')     # per-instance entries that follow their masks


@dataclass(frozen=True)
class CopyPasteConfig:
    """How people are pasted.

    Args:
        probability: chance that a sample gets people pasted onto it.
        max_instances: at most this many people from the source image (at least one).
        scale_range: the source image (and its masks) is rescaled by a factor drawn from this range.
        flip: chance of a horizontal flip of the source.
        min_visible: a person of the target image keeps its mask only if this share of its area stays visible.
    """
    probability: float = 0.5
    max_instances: int = 3
    scale_range: tuple[float, float] = (0.5, 1.25)
    flip: float = 0.5
    min_visible: float = 0.1

    def __post_init__(self) -> None:
        if not 0.0 <= self.probability <= 1.0 or not 0.0 <= self.flip <= 1.0:
            raise ValueError(f'probability and flip must be in [0, 1], got {self.probability}, {self.flip}')
        if self.max_instances < 1:
            raise ValueError(f'max_instances must be >= 1, got {self.max_instances}')
        low, high = self.scale_range
        if not 0 < low <= high:
            raise ValueError(f'scale_range must be (low, high) with 0 < low <= high, got {self.scale_range}')
        if not 0.0 <= self.min_visible < 1.0:
            raise ValueError(f'min_visible must be in [0, 1), got {self.min_visible}')


def uniform(low: float, high: float, generator: torch.Generator | None) -> float:
    """A float drawn uniformly from [low, high] (``generator`` ``None``: torch's global generator)."""
    return low + (high - low) * float(torch.rand((), generator=generator))


def paste_at(image: torch.Tensor, layers: torch.Tensor, size: tuple[int, int], dy: int,
             dx: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Image [C, h, w] and layers [K, h, w] placed with their top-left corner at (dy, dx) (negative: cut) on
    black / empty canvases of ``size``; what falls outside is cut."""
    new_h, new_w = image.shape[-2:]
    canvas_image = image.new_zeros((image.shape[0], *size))
    canvas_layers = layers.new_zeros((layers.shape[0], *size))
    sy, sx, ty, tx = max(0, -dy), max(0, -dx), max(0, dy), max(0, dx)
    h, w = min(new_h - sy, size[0] - ty), min(new_w - sx, size[1] - tx)
    if h > 0 and w > 0:
        canvas_image[:, ty:ty + h, tx:tx + w] = image[:, sy:sy + h, sx:sx + w]
        canvas_layers[:, ty:ty + h, tx:tx + w] = layers[:, sy:sy + h, sx:sx + w]
    return canvas_image, canvas_layers


def _place(image: torch.Tensor, masks: torch.Tensor, size: tuple[int, int], scale: float, flip: bool,
           generator: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
    """The source rescaled, flipped and shifted at random onto a canvas of ``size`` (pixels outside are cut)."""
    height, width = image.shape[-2:]
    new_h, new_w = max(1, round(height * scale)), max(1, round(width * scale))
    image = F.interpolate(image[None], size=(new_h, new_w), mode='bilinear', align_corners=False)[0]
    masks = F.interpolate(masks[None].float(), size=(new_h, new_w), mode='bilinear', align_corners=False)[0] >= 0.5
    if flip:
        image, masks = image.flip(-1), masks.flip(-1)
    # Shift so that the pasted people's box lands inside the canvas where it fits.
    x1, y1, x2, y2 = (int(v) for v in mask_boxes(masks.any(0, keepdim=True))[0].tolist())
    dx = round(uniform(-x1, max(-x1, size[1] - x2), generator))
    dy = round(uniform(-y1, max(-y1, size[0] - y2), generator))
    return paste_at(image, masks, size, dy, dx)


def copy_paste(target: dict[str, Any], source: dict[str, Any], cfg: CopyPasteConfig = CopyPasteConfig(),
               generator: torch.Generator | None = None) -> dict[str, Any]:
    """``target`` with up to ``cfg.max_instances`` people of ``source`` pasted onto it.

    Args:
        target, source: samples as :class:`~rhis_plugin.data.CocoPersonDataset` gives them (``image`` [3, H, W],
            ``masks`` bool [M, H, W]; ``crowd`` [H, W] optional); the source may have another size.
        cfg: what to paste and how.
        generator: random numbers (``None``: torch's global generator).

    Returns:
        A new sample: the image with the pasted pixels, the target's masks minus the pasted people (those left with
        less than ``cfg.min_visible`` of their area dropped), then the pasted people's masks; boxes recomputed;
        per-instance ``labels`` and ``ignore`` (where both samples have them) follow their masks; the crowd region
        minus the pasted people; other keys as in ``target``.

    Example:
        >>> image, masks = torch.zeros(3, 8, 8), torch.zeros(1, 8, 8, dtype=torch.bool)
        >>> masks[0, 2:6, 2:4] = True
        >>> out = copy_paste({'image': image, 'masks': masks}, {'image': torch.ones(3, 8, 8), 'masks': masks},
        ...                  CopyPasteConfig(scale_range=(1.0, 1.0), flip=0.0))
        >>> len(out['masks']) >= 1 and out['image'].max().item() == 1.0
        True
    """
    out = dict(target)
    if not len(source['masks']):
        return out
    size = tuple(target['image'].shape[-2:])
    count = 1 + int(torch.randint(min(cfg.max_instances, len(source['masks'])), (), generator=generator))
    chosen = torch.randperm(len(source['masks']), generator=generator)[:count]
    scale = uniform(*cfg.scale_range, generator)
    flip = float(torch.rand((), generator=generator)) < cfg.flip
    pasted_image, pasted = _place(source['image'], source['masks'][chosen], size, scale, flip, generator)
    nonempty = pasted.flatten(1).any(1)
    pasted = pasted[nonempty]
    if not len(pasted):
        return out
    cover = pasted.any(0)
    masks = target['masks']
    visible = masks & ~cover
    keep = visible.flatten(1).sum(1) >= cfg.min_visible * masks.flatten(1).sum(1).clamp(min=1)
    keep &= visible.flatten(1).any(1)
    out['image'] = torch.where(cover, pasted_image, target['image'])
    out['masks'] = torch.cat([visible[keep], pasted])
    out['boxes'] = mask_boxes(out['masks'])
    for key in INSTANCE_KEYS:
        if key in target and key in source:
            out[key] = torch.cat([target[key][keep], source[key][chosen][nonempty]])
    if target.get('crowd') is not None:
        out['crowd'] = target['crowd'] & ~cover
    return out


class CopyPasteDataset(Dataset):
    """A dataset whose samples get people of another random sample pasted onto them (:func:`copy_paste`) with
    probability ``cfg.probability``. Random numbers come from torch's global generator, which a seeded
    ``DataLoader`` seeds per worker, so a seeded run is reproducible."""

    def __init__(self, dataset: Dataset, cfg: CopyPasteConfig = CopyPasteConfig()) -> None:
        if len(dataset) < 2:
            raise ValueError('copy-paste needs at least 2 training images')
        self.dataset, self.cfg = dataset, cfg

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> dict[str, Any]:
        sample = self.dataset[index]
        if float(torch.rand(())) >= self.cfg.probability:
            return sample
        other = (index + 1 + int(torch.randint(len(self.dataset) - 1, ()))) % len(self.dataset)
        return copy_paste(sample, self.dataset[other], self.cfg)
