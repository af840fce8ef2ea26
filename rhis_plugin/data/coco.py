"""Small helpers to write and read COCO instance annotations (person category)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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
