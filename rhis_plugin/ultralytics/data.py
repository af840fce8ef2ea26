"""Person instances from an Ultralytics segmentation dataset (``data.yaml`` + YOLO polygon labels), and the
conversion of a COCO person folder into one."""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
import yaml
from PIL import Image, ImageDraw
from torch.utils.data import Dataset

from ..data.coco_dataset import CocoPersonDataset, letterbox, mask_boxes
from ..data.images import read_rgb_image, rgb_to_tensor

__all__ = ['YoloSegDataset', 'load_person_dataset', 'coco_to_yolo_seg']

IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp', '.webp')


def _read_yaml(path: Path) -> dict:
    data = yaml.safe_load(path.read_text())
    if not isinstance(data, dict) or 'names' not in data:
        raise ValueError(f'{path} is not an Ultralytics dataset yaml (no names)')
    return data


class YoloSegDataset(Dataset):
    """Samples like :class:`~rhis_plugin.data.coco_dataset.CocoPersonDataset` from YOLO polygon labels.

    Args:
        data_yaml: the dataset yaml (``path``, ``train``, ``val``, ``names``), as Ultralytics reads it.
        split: ``'train'`` or ``'val'``.
        image_size: letterbox size (H, W), or ``None`` to keep the original size.
        person_class: class id of people; by default the class named ``person``.
    """

    def __init__(self, data_yaml: str | Path, split: str = 'train', image_size: tuple[int, int] | None = None,
                 person_class: int | None = None) -> None:
        data_yaml = Path(data_yaml)
        data = _read_yaml(data_yaml)
        if split not in data:
            raise ValueError(f'{data_yaml} has no {split!r} split')
        root = Path(data.get('path') or data_yaml.parent)
        if not root.is_absolute():
            root = (data_yaml.parent / root).resolve()
        image_dir = root / data[split]
        if not image_dir.is_dir():
            raise FileNotFoundError(f'image folder of split {split!r} not found: {image_dir}')
        names = data['names']
        names = names if isinstance(names, dict) else dict(enumerate(names))
        if person_class is None:
            matches = [int(i) for i, n in names.items() if str(n).lower() == 'person']
            if not matches:
                raise ValueError(f'{data_yaml} has no class named person; pass person_class')
            person_class = matches[0]
        self.person_class = person_class
        self.images = sorted(p for p in image_dir.rglob('*') if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self.images:
            raise ValueError(f'no images in {image_dir}')
        self.image_size = tuple(image_size) if image_size is not None else None

    @staticmethod
    def label_path(image: Path) -> Path:
        """Ultralytics' rule: the last ``images`` folder of the path becomes ``labels``, suffix ``.txt``."""
        parts = list(image.parts)
        index = len(parts) - 1 - parts[::-1].index('images')
        parts[index] = 'labels'
        return Path(*parts).with_suffix('.txt')

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> dict[str, Any]:
        path = self.images[index]
        rgb = read_rgb_image(path)
        height, width = rgb.shape[:2]
        masks = []
        label = self.label_path(path)
        if label.exists():
            for line in label.read_text().splitlines():
                values = line.split()
                if len(values) < 7 or int(float(values[0])) != self.person_class:
                    continue
                points = np.array(values[1:], dtype=np.float64).reshape(-1, 2) * (width, height)
                canvas = Image.new('L', (width, height), 0)
                ImageDraw.Draw(canvas).polygon([tuple(p) for p in points], fill=1)
                masks.append(np.asarray(canvas, dtype=bool))
        image = rgb_to_tensor(rgb)
        mask_tensor = torch.from_numpy(np.stack(masks)) if masks else torch.zeros((0, height, width), dtype=torch.bool)
        scale = 1.0
        if self.image_size is not None:
            image, mask_tensor, scale = letterbox(image, mask_tensor, self.image_size)
        mask_tensor = mask_tensor[mask_tensor.flatten(1).any(dim=1)]
        return {'image': image, 'masks': mask_tensor, 'boxes': mask_boxes(mask_tensor), 'image_id': index,
                'scale': scale, 'orig_size': (height, width), 'path': str(path)}


def load_person_dataset(source: str | Path, split: str = 'train',
                        image_size: tuple[int, int] | None = None) -> Dataset:
    """A ``data.yaml`` (Ultralytics) or a COCO folder/annotation file (``<source>/<split>`` when it exists)."""
    source = Path(source)
    if source.suffix in ('.yaml', '.yml'):
        return YoloSegDataset(source, split, image_size)
    if source.is_dir() and (source / split / 'annotations.json').is_file():
        source = source / split
    return CocoPersonDataset(source, image_size=image_size)


def coco_to_yolo_seg(coco_root: str | Path, out_dir: str | Path, splits: tuple[str, ...] = ('train', 'val'),
                     copy_images: bool = False) -> Path:
    """Writes an Ultralytics segmentation dataset (one class, ``person``) from ``coco_root/<split>`` folders.

    Occluded persons whose visible mask has several parts keep every part: the parts are joined into one
    polygon, as Ultralytics' own COCO converter does. Returns the path of the written ``data.yaml``.
    """
    from ultralytics.data.converter import merge_multi_segment

    coco_root, out_dir = Path(coco_root), Path(out_dir)
    for split in splits:
        dataset = CocoPersonDataset(coco_root / split)
        image_out, label_out = out_dir / 'images' / split, out_dir / 'labels' / split
        image_out.mkdir(parents=True, exist_ok=True)
        label_out.mkdir(parents=True, exist_ok=True)
        for image_id in dataset.image_ids:
            info = dataset.coco.loadImgs(image_id)[0]
            source = dataset.image_dir / info['file_name']
            target = image_out / Path(info['file_name']).name
            if copy_images and not target.exists():
                shutil.copy(source, target)
            elif not target.exists():
                os.symlink(source.resolve(), target)
            lines = []
            anns = dataset.coco.loadAnns(dataset.coco.getAnnIds(imgIds=image_id, catIds=[dataset.category_id],
                                                                 iscrowd=False))
            for ann in anns:
                mask = dataset.coco.annToMask(ann).astype(np.uint8)
                contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
                parts = [c.reshape(-1, 2) for c in contours if len(c) >= 3]
                if not parts:
                    continue
                polygon = np.concatenate(merge_multi_segment([p.reshape(-1).tolist() for p in parts])) \
                    if len(parts) > 1 else parts[0]
                normalised = (polygon / np.array([info['width'], info['height']])).reshape(-1)
                lines.append('0 ' + ' '.join(f'{v:.6f}' for v in normalised))
            (label_out / f'{target.stem}.txt').write_text('\n'.join(lines) + ('\n' if lines else ''))
    data_yaml = out_dir / 'data.yaml'
    data_yaml.write_text(yaml.safe_dump({'path': str(out_dir.resolve()), **{s: f'images/{s}' for s in splits},
                                         'names': {0: 'person'}}, sort_keys=False))
    return data_yaml
