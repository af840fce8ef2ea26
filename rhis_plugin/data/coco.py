"""Small helpers to write and read COCO instance annotations (person category)."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from pycocotools import mask as mask_utils

PERSON_CATEGORY = {'id': 1, 'name': 'person', 'supercategory': 'person'}


def encode_mask(mask: np.ndarray) -> dict[str, Any]:
    """Encodes a boolean HxW mask as COCO compressed RLE with a JSON-safe ``counts`` string."""
    if mask.ndim != 2:
        raise ValueError(f'mask must be 2-D (H, W), got shape {mask.shape}')
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    rle['counts'] = rle['counts'].decode('ascii')
    return rle


def instance_annotation(ann_id: int, image_id: int, mask: np.ndarray) -> dict[str, Any]:
    """A non-crowd person annotation whose box and area are derived from ``mask``."""
    rle = encode_mask(mask)
    return {
        'id': ann_id,
        'image_id': image_id,
        'category_id': PERSON_CATEGORY['id'],
        'segmentation': rle,
        'area': float(mask_utils.area(rle)),
        'bbox': [float(v) for v in mask_utils.toBbox(rle)],
        'iscrowd': 0,
    }


def write_coco(path: str | Path, images: list[dict], annotations: list[dict],
               categories: list[dict] | None = None, info: dict | None = None) -> Path:
    """Writes a COCO instance JSON and returns its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        'info': info or {},
        'images': images,
        'annotations': annotations,
        'categories': categories or [PERSON_CATEGORY],
    }
    path.write_text(json.dumps(payload))
    return path


def merge_coco_folders(specs: Sequence[str | Path], out_dir: str | Path, drop_crowd_images: bool = False,
                       copy_images: bool = False) -> dict[str, int]:
    """Writes one COCO person folder (``out_dir/annotations.json`` + ``images/``) from several, each ``PATH`` or
    ``PATH:train|val`` (the coco-val-fifth rule, :func:`~rhis_plugin.data.parse_folder`), so that tools that take one
    folder (mmdet configs, ``tools/coco_to_yolo.py``) train on exactly the images the framework-free tools read.

    Args:
        specs: the source folders.
        out_dir: the folder to write; images are symlinked (``copy_images``: copied).
        drop_crowd_images: leave out images with crowd regions (``iscrowd=1``). Formats that cannot carry ignore
            regions (YOLO) would teach a model that crowds are background; dropping the images treats every
            model alike.

    Returns:
        Counts: ``images``, ``persons``, ``dropped_images``.

    Raises:
        ValueError: two sources hold an image of the same file name.
    """
    from .coco_dataset import CocoPersonDataset, parse_folder

    out_dir = Path(out_dir)
    (out_dir / 'images').mkdir(parents=True, exist_ok=True)
    images, annotations, dropped, origin = [], [], 0, {}
    for spec in specs:
        path, split = parse_folder(spec)
        dataset = CocoPersonDataset(path, split=split)
        for image_id in dataset.image_ids:
            info = dataset.coco.loadImgs(image_id)[0]
            anns = dataset.coco.loadAnns(dataset.coco.getAnnIds(imgIds=image_id, catIds=[dataset.category_id]))
            if drop_crowd_images and any(a.get('iscrowd', 0) for a in anns):
                dropped += 1
                continue
            name = Path(info['file_name']).name
            if name in origin:
                raise ValueError(f'{name} is in both {origin[name]} and {spec}: rename one before merging')
            origin[name] = str(spec)
            source, target = dataset.image_dir / info['file_name'], out_dir / 'images' / name
            if target.is_symlink() or target.exists():
                target.unlink()
            if copy_images:
                shutil.copy(source, target)
            else:
                os.symlink(source.resolve(), target)
            new_id = len(images) + 1
            images.append({**info, 'id': new_id, 'file_name': name})
            for ann in anns:
                annotations.append({**ann, 'id': len(annotations) + 1, 'image_id': new_id,
                                    'category_id': PERSON_CATEGORY['id']})
    write_coco(out_dir / 'annotations.json', images, annotations,
               info={'merged_from': [str(s) for s in specs], 'dropped_crowd_images': dropped})
    persons = sum(1 for a in annotations if not a.get('iscrowd', 0))
    return {'images': len(images), 'persons': persons, 'dropped_images': dropped}
