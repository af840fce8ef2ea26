"""COCO-format person instances as tensors, for the framework-free training and evaluation tools.

One split rule for folders without train/val subfolders (``../shared/data/coco_person_train``), used by every tool:
the "coco val fifth" — images whose index in the file names' sorted order is a multiple of 5 are validation, the
rest train (:func:`split_of`). A folder argument may name its split as ``PATH:train`` / ``PATH:val``
(:func:`coco_person_dataset` takes several, mmdet configs a ``ConcatDataset``).
Crowd regions (``iscrowd=1``) are not persons to segment and not background either: samples carry their union as
``crowd``, which the losses ignore and the COCO evaluation passes on as crowd ground truth.
"""
from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from pycocotools.coco import COCO
from torch.utils.data import ConcatDataset, Dataset

from .images import read_rgb_image, rgb_to_tensor

__all__ = ['CocoPersonDataset', 'collate_samples', 'letterbox', 'mask_boxes', 'SPLITS', 'split_of',
           'parse_folder', 'coco_person_dataset', 'datasets_by_spec']

SPLITS = ('all', 'train', 'val')
VAL_EVERY = 5


def split_of(file_names: Sequence[str]) -> dict[str, str]:
    """The coco-val-fifth rule: ``'val'`` for every 5th file name in sorted order (index % 5 == 0), else ``'train'``."""
    return {name: 'val' if i % VAL_EVERY == 0 else 'train' for i, name in enumerate(sorted(file_names))}


def parse_folder(spec: str | Path) -> tuple[Path, str]:
    """``PATH`` or ``PATH:SPLIT`` (SPLIT one of :data:`SPLITS`) -> (path, split)."""
    text = str(spec)
    head, _, tail = text.rpartition(':')
    if head and tail in SPLITS:
        return Path(head), tail
    return Path(text), 'all'


class CocoPersonDataset(Dataset):
    """Images with their non-crowd person instances.

    Args:
        root: a folder holding ``annotations.json`` and ``images/`` (the layout of the synthetic generator and
            of ``../shared/data/pennfudan/{train,val}``), or the annotation file itself with images beside it
            in ``images/``.
        image_size: (H, W) to letterbox every image to (scale to fit, pad right/bottom with black), so a batch
            stacks; ``None`` keeps the original size.
        category: name of the person category in the annotation file.
        split: ``'all'``, or ``'train'`` / ``'val'`` of the coco-val-fifth rule (:func:`split_of`).
        sources: keep only images whose ``source`` field starts with one of these (e.g. ``('coco_train',)``:
            COCO's own annotations in ``coco_person_train``).

    A sample is a dict: ``image`` float [3, H, W] in [0, 1]; ``boxes`` [M, 4] pixel (x1, y1, x2, y2);
    ``masks`` bool [M, H, W]; ``crowd`` bool [H, W] (union of crowd regions, to ignore); ``image_id``;
    ``scale`` (resized / original); ``orig_size`` (h, w).
    """

    def __init__(self, root: str | Path, image_size: tuple[int, int] | None = None, category: str = 'person',
                 split: str = 'all', sources: Sequence[str] | None = None) -> None:
        root = Path(root)
        ann_file = root / 'annotations.json' if root.is_dir() else root
        if not ann_file.is_file():
            raise FileNotFoundError(f'no COCO annotation file at {ann_file}')
        self.image_dir = ann_file.parent / 'images'
        with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints progress
            self.coco = COCO(str(ann_file))
        self.ann_file = ann_file
        categories = self.coco.getCatIds(catNms=[category])
        if not categories:
            names = [c['name'] for c in self.coco.loadCats(self.coco.getCatIds())]
            raise ValueError(f'{ann_file} has no category {category!r} (categories: {names})')
        self.category_id = categories[0]
        if split not in SPLITS:
            raise ValueError(f'split must be one of {SPLITS}, got {split!r}')
        images = self.coco.loadImgs(sorted(self.coco.getImgIds()))
        splits = split_of([info['file_name'] for info in images])
        self.image_ids = [info['id'] for info in images
                          if split in ('all', splits[info['file_name']])
                          and (sources is None or str(info.get('source', '')).startswith(tuple(sources)))]
        if not self.image_ids:
            raise ValueError(f'{ann_file}: no image left for split={split!r}, sources={sources}')
        self.split, self.sources = split, None if sources is None else tuple(sources)
        self.image_size = tuple(image_size) if image_size is not None else None

    def __len__(self) -> int:
        return len(self.image_ids)

    def __getitem__(self, index: int) -> dict[str, Any]:
        image_id = self.image_ids[index]
        info = self.coco.loadImgs(image_id)[0]
        path = self.image_dir / info['file_name']
        rgb = read_rgb_image(path)
        anns = self.coco.loadAnns(self.coco.getAnnIds(imgIds=image_id, catIds=[self.category_id]))
        layers = [self.coco.annToMask(a) for a in anns if not a.get('iscrowd', 0)]
        crowd = np.zeros(rgb.shape[:2], np.uint8)
        for ann in anns:
            if ann.get('iscrowd', 0):
                crowd |= self.coco.annToMask(ann)
        masks = np.stack(layers + [crowd])       # the crowd union rides along as the last layer through resizing
        image = rgb_to_tensor(rgb)
        mask_tensor = torch.from_numpy(masks).bool()
        scale = 1.0
        if self.image_size is not None:
            image, mask_tensor, scale = letterbox(image, mask_tensor, self.image_size)
        mask_tensor, crowd_mask = mask_tensor[:-1], mask_tensor[-1]
        keep = mask_tensor.flatten(1).any(dim=1)
        mask_tensor = mask_tensor[keep]
        return {'image': image, 'masks': mask_tensor, 'boxes': mask_boxes(mask_tensor), 'crowd': crowd_mask,
                'image_id': image_id, 'file_name': info['file_name'], 'scale': scale, 'orig_size': tuple(rgb.shape[:2])}


def resize_with_masks(image: torch.Tensor, masks: torch.Tensor,
                      size: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Image [3, H, W] and bool masks [M, H, W] resized to ``size`` (h, w): bilinear, antialiased when shrinking,
    masks thresholded at 0.5."""
    shrink = size[0] * size[1] < image.shape[-2] * image.shape[-1]
    image = F.interpolate(image[None], size=size, mode='bilinear', align_corners=False, antialias=shrink)[0]
    if len(masks):
        masks = F.interpolate(masks[None].float(), size=size, mode='bilinear', align_corners=False,
                              antialias=shrink)[0] >= 0.5
    else:
        masks = masks.new_zeros((0, *size))
    return image, masks


def letterbox(image: torch.Tensor, masks: torch.Tensor,
              size: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Scales image [3, H, W] and masks [M, H, W] to fit ``size`` (h, w), keeping the aspect ratio, and pads
    bottom-right. Returns the image, the masks and the scale."""
    height, width = image.shape[-2:]
    scale = min(size[0] / height, size[1] / width)
    new_h, new_w = max(1, round(height * scale)), max(1, round(width * scale))
    image, masks = resize_with_masks(image, masks, (new_h, new_w))
    pad = (0, size[1] - new_w, 0, size[0] - new_h)
    return F.pad(image, pad), F.pad(masks, pad), scale


def mask_boxes(masks: torch.Tensor) -> torch.Tensor:
    """Tight pixel boxes (x1, y1, x2, y2), x2/y2 exclusive, of non-empty masks [M, H, W]."""
    if len(masks) == 0:
        return torch.zeros((0, 4))
    rows, cols = masks.any(dim=2), masks.any(dim=1)

    def first_last(flags: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        index = torch.arange(flags.shape[1]).expand_as(flags)
        return torch.where(flags, index, flags.shape[1]).amin(1), torch.where(flags, index, -1).amax(1) + 1
    y1, y2 = first_last(rows)
    x1, x2 = first_last(cols)
    return torch.stack([x1, y1, x2, y2], dim=1).float()


def collate_samples(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Stacks images (they must share a size: use ``image_size``); keeps per-image boxes and masks as lists."""
    sizes = {tuple(s['image'].shape) for s in samples}
    if len(sizes) != 1:
        raise ValueError(f'images of different sizes {sorted(sizes)} cannot be batched; set image_size')
    batch = {'images': torch.stack([s['image'] for s in samples]),      # crowd: none where a source has none
             'crowd': torch.stack([s.get('crowd', s['image'].new_zeros(s['image'].shape[-2:], dtype=torch.bool))
                                   for s in samples])}
    for key in ('boxes', 'masks', 'image_id', 'scale', 'orig_size'):
        batch[key] = [s[key] for s in samples]
    return batch


def coco_person_dataset(folders: str | Path | Sequence[str | Path], image_size: tuple[int, int] | None = None,
                        sources: Sequence[str] | None = None) -> Dataset:
    """One dataset from one or several folders, each ``PATH`` or ``PATH:train`` / ``PATH:val`` (:func:`parse_folder`).

    ``sources`` filters images by their ``source`` field where a folder has one (folders without it keep all).
    """
    specs = [folders] if isinstance(folders, (str, Path)) else list(folders)
    if not specs:
        raise ValueError('no data folder given')
    parts = []
    for spec in specs:
        path, split = parse_folder(spec)
        parts.append(CocoPersonDataset(path, image_size=image_size, split=split, sources=_sources_for(path, sources)))
    return parts[0] if len(parts) == 1 else ConcatDataset(parts)


def datasets_by_spec(specs: Sequence[str]) -> dict[str, Dataset]:
    """One original-size dataset per spec, keyed by the spec: ``PATH[:split][#SOURCE]``, where ``#SOURCE`` keeps the
    images whose ``source`` starts with SOURCE (e.g. ``coco_person_train:val#coco_train``: the coco val fifth's
    images with COCO's own annotations), so that benchmarks score several val sets one by one."""
    sets = {}
    for spec in specs:
        folder, _, source = spec.partition('#')
        sets[spec] = coco_person_dataset(folder, sources=[source] if source else None)
    return sets


def _sources_for(path: Path, sources: Sequence[str] | None) -> Sequence[str] | None:
    if sources is None:
        return None
    ann_file = path / 'annotations.json' if path.is_dir() else path
    with open(ann_file) as f:
        has_source = any('source' in info for info in json.load(f).get('images', []))
    return sources if has_source else None
