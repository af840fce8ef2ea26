"""Training augmentation of person samples: horizontal flips, scale jitter and colour jitter.

A few hundred training images are too few for a head and a UNet to see people at every size, side and light; the
longer schedules of the starter would otherwise learn the images by heart. Scale jitter also gives the head ROIs of
many sizes (the box jitter of the trainer only moves a box around its person). Framework-free (torch tensors, the
sample dicts of :class:`~rhis_plugin.data.CocoPersonDataset`), used by the framework-free trainers through
``TrainConfig.augment`` (``--augment``); mmdet pipelines have ``RandomFlip`` / ``RandomResize`` /
``PhotoMetricDistortion`` and Ultralytics its own ``fliplr`` / ``scale`` / ``hsv_*`` for the same thing.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch.utils.data import Dataset

from .coco_dataset import mask_boxes, resize_with_masks
from .copy_paste import INSTANCE_KEYS, paste_at, uniform

__all__ = ['AugmentConfig', 'augment', 'AugmentedDataset']


@dataclass(frozen=True)
class AugmentConfig:
    """How samples are jittered.

    Args:
        flip: chance of a horizontal flip.
        scale_range: the image is zoomed by a factor drawn from this range, then cropped (zoom in) or padded with
            black (zoom out) at a random place back to its size.
        brightness, contrast, saturation: each factor is drawn from ``[1 - v, 1 + v]``.
    """
    flip: float = 0.5
    scale_range: tuple[float, float] = (0.75, 1.25)
    brightness: float = 0.25
    contrast: float = 0.25
    saturation: float = 0.25

    def __post_init__(self) -> None:
        if not 0.0 <= self.flip <= 1.0:
            raise ValueError(f'flip must be in [0, 1], got {self.flip}')
        low, high = self.scale_range
        if not 0 < low <= high:
            raise ValueError(f'scale_range must be (low, high) with 0 < low <= high, got {self.scale_range}')
        for name in ('brightness', 'contrast', 'saturation'):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f'{name} must be in [0, 1), got {getattr(self, name)}')


def _zoom(image: torch.Tensor, layers: torch.Tensor, scale: float,
          generator: torch.Generator | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Image [3, H, W] and bool layers [K, H, W] zoomed by ``scale`` and cut or padded back to H x W at random."""
    height, width = image.shape[-2:]
    new_h, new_w = max(1, round(height * scale)), max(1, round(width * scale))
    image, layers = resize_with_masks(image, layers, (new_h, new_w))
    # Offset of the zoomed picture on the canvas: negative (crop) when it is larger, positive (pad) when smaller.
    dy = round(uniform(min(0, height - new_h), max(0, height - new_h), generator))
    dx = round(uniform(min(0, width - new_w), max(0, width - new_w), generator))
    return paste_at(image, layers, (height, width), dy, dx)


def _colour(image: torch.Tensor, cfg: AugmentConfig, generator: torch.Generator | None) -> torch.Tensor:
    """Brightness, contrast and saturation jitter of an image [3, H, W] in [0, 1]."""
    grey = (0.299 * image[0] + 0.587 * image[1] + 0.114 * image[2])[None]
    image = image * uniform(1 - cfg.brightness, 1 + cfg.brightness, generator)
    contrast = uniform(1 - cfg.contrast, 1 + cfg.contrast, generator)
    image = contrast * image + (1 - contrast) * grey.mean()
    saturation = uniform(1 - cfg.saturation, 1 + cfg.saturation, generator)
    grey = (0.299 * image[0] + 0.587 * image[1] + 0.114 * image[2])[None]
    return (saturation * image + (1 - saturation) * grey).clamp(0, 1)


def augment(sample: dict[str, Any], cfg: AugmentConfig = AugmentConfig(),
            generator: torch.Generator | None = None) -> dict[str, Any]:
    """A flipped, zoomed and colour-jittered copy of a training sample (same image size).

    Args:
        sample: as :class:`~rhis_plugin.data.CocoPersonDataset` gives it (``image`` [3, H, W] in [0, 1], ``masks``
            bool [M, H, W]; ``crowd`` [H, W] optional).
        cfg: how much of each.
        generator: random numbers (``None``: torch's global generator).

    Returns:
        A new sample: image, masks and crowd region moved together; people cut away entirely by a zoom dropped
        (their ``labels`` / ``ignore`` with them); boxes recomputed; other keys (``scale``, ``orig_size``) as
        given, so an augmented sample is for training, not for scoring at the original size.

    Example:
        >>> masks = torch.zeros(1, 8, 8, dtype=torch.bool)
        >>> masks[0, 2:6, 0:2] = True
        >>> out = augment({'image': torch.rand(3, 8, 8), 'masks': masks},
        ...               AugmentConfig(flip=1.0, scale_range=(1.0, 1.0)))
        >>> out['boxes'].tolist()
        [[6.0, 2.0, 8.0, 6.0]]
    """
    out = dict(sample)
    image, masks = sample['image'], sample['masks']
    crowd = sample.get('crowd')
    layers = torch.cat([masks, crowd[None]]) if crowd is not None else masks
    if float(torch.rand((), generator=generator)) < cfg.flip:
        image, layers = image.flip(-1), layers.flip(-1)
    scale = uniform(*cfg.scale_range, generator)
    if scale != 1.0:
        image, layers = _zoom(image, layers, scale, generator)
    if crowd is not None:
        layers, out['crowd'] = layers[:-1], layers[-1]
    keep = layers.flatten(1).any(1)
    out['image'] = _colour(image, cfg, generator)
    out['masks'] = layers[keep]
    out['boxes'] = mask_boxes(out['masks'])
    for key in INSTANCE_KEYS:
        if key in sample:
            out[key] = sample[key][keep]
    return out


class AugmentedDataset(Dataset):
    """A dataset whose samples are jittered by :func:`augment`. Random numbers come from torch's global generator,
    which a seeded ``DataLoader`` seeds per worker, so a seeded run is reproducible."""

    def __init__(self, dataset: Dataset, cfg: AugmentConfig = AugmentConfig()) -> None:
        self.dataset, self.cfg = dataset, cfg

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return augment(self.dataset[index], self.cfg)
