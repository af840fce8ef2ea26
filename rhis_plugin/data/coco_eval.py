"""COCO box and mask AP from in-memory ground truth and detections (pycocotools)."""
from __future__ import annotations

import contextlib
import io

import numpy as np
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

# The oracle-box protocol, shared by `rhis demo`, tools/bench_quality.py and mmdet's gt_boxes mode: GT boxes, all of
# equal box score (exclusive masks resolve overlaps by mask probability), each mask ranked for COCO AP by its mean
# probability inside the mask (PastedMasks.scores).
ORACLE_BOX_SCORE = 'mean mask probability'

__all__ = ['ORACLE_BOX_SCORE', 'SIZES', 'CocoAccumulator']

SIZES = ('small', 'medium', 'large')     # COCO's area ranges: < 32^2, < 96^2, larger


class CocoAccumulator:
    """Collects GT person masks and predicted masks image by image, then runs COCOeval for bbox and segm."""

    def __init__(self) -> None:
        self.images: list[dict] = []
        self.annotations: list[dict] = []
        self.detections: list[dict] = []

    def add_image(self, height: int, width: int, gt_masks: np.ndarray, crowd: np.ndarray | None = None) -> int:
        """Registers an image, its GT masks [M, H, W] and optionally its crowd region [H, W] (COCO ignores
        detections that fall on it instead of counting them as false positives); returns its image id."""
        image_id = len(self.images) + 1
        self.images.append({'id': image_id, 'height': int(height), 'width': int(width), 'file_name': str(image_id)})
        crowds = [crowd] if crowd is not None and crowd.any() else []
        for mask, iscrowd in [(m, 0) for m in gt_masks] + [(c, 1) for c in crowds]:
            rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
            self.annotations.append({'id': len(self.annotations) + 1, 'image_id': image_id, 'category_id': 1,
                                     'segmentation': rle, 'area': float(mask_utils.area(rle)),
                                     'bbox': mask_utils.toBbox(rle).tolist(), 'iscrowd': iscrowd})
        return image_id

    def add_detections(self, image_id: int, boxes: np.ndarray, scores: np.ndarray, masks: np.ndarray) -> None:
        """Predicted boxes [N, 4] (x1, y1, x2, y2), scores [N] and masks [N, H, W] of one image."""
        for box, score, mask in zip(boxes, scores, masks):
            rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
            x1, y1, x2, y2 = (float(v) for v in box)
            self.detections.append({'image_id': image_id, 'category_id': 1, 'segmentation': rle,
                                    'bbox': [x1, y1, x2 - x1, y2 - y1], 'score': float(score)})

    def evaluate(self) -> dict[str, float]:
        """AP, AP50, AP75 for ``bbox`` and ``segm`` (0 where nothing was detected), and AP by object size
        (``_small`` / ``_medium`` / ``_large``: NaN where the ground truth has no object of that size)."""
        metrics = {}
        with contextlib.redirect_stdout(io.StringIO()):
            gt = COCO()
            gt.dataset = {'images': self.images, 'annotations': self.annotations,
                          'categories': [{'id': 1, 'name': 'person'}]}
            gt.createIndex()
            for iou_type in ('bbox', 'segm'):
                stats, sizes = [0.0, 0.0, 0.0], [float('nan')] * 3
                if self.detections:
                    evaluator = COCOeval(gt, gt.loadRes(self.detections), iou_type)
                    evaluator.evaluate()
                    evaluator.accumulate()
                    evaluator.summarize()
                    stats = [max(float(v), 0.0) for v in evaluator.stats[:3]]
                    sizes = [float(v) if v >= 0 else float('nan') for v in evaluator.stats[3:6]]
                metrics.update({f'{iou_type}_AP': stats[0], f'{iou_type}_AP50': stats[1], f'{iou_type}_AP75': stats[2]})
                metrics.update({f'{iou_type}_AP_{size}': value for size, value in zip(SIZES, sizes)})
        return metrics
