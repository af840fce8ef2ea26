"""BinarySegMetric: IoU, Dice/F1, precision, recall, accuracy and AUROC of person/background predictions."""
from __future__ import annotations

from typing import Sequence

import numpy as np
from mmdet.registry import METRICS
from mmengine.evaluator import BaseMetric
from mmengine.fileio import get_local_path
from pycocotools.coco import COCO

from rhis_plugin.data.binary_seg_eval import BinarySegAccumulator

__all__ = ['BinarySegMetric']


@METRICS.register_module()
class BinarySegMetric(BaseMetric):
    """Scores ``pred_sem_seg.sem_seg`` (person probability [1, H, W] at the original image size) against the
    union of the image's non-crowd person masks, read from the COCO ``ann_file`` at the original size.
    Crowd regions are not counted.

    Args:
        ann_file: COCO instances JSON of the evaluated split.
        threshold: probability at or above which a pixel is person.
        person_category_ids: COCO category ids that are people; ``None`` takes every category.
    """
    default_prefix = 'peopleseg'

    def __init__(self, ann_file: str, threshold: float = 0.5, person_category_ids: Sequence[int] | None = None,
                 collect_device: str = 'cpu', prefix: str | None = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        with get_local_path(ann_file) as local_path:
            self.coco = COCO(local_path)
        self.threshold = threshold
        self.category_ids = None if person_category_ids is None else set(person_category_ids)

    def _target(self, img_id: int, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
        union = np.zeros((height, width), dtype=bool)
        crowd = np.zeros((height, width), dtype=bool)
        for ann in self.coco.loadAnns(self.coco.getAnnIds(imgIds=[img_id])):
            if self.category_ids is not None and ann['category_id'] not in self.category_ids:
                continue
            mask = self.coco.annToMask(ann).astype(bool) if ann.get('segmentation') else None
            if mask is None:
                continue
            if ann.get('iscrowd', 0):
                crowd |= mask
            else:
                union |= mask
        return union, ~crowd | union

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            prob = sample['pred_sem_seg']['sem_seg'][0]
            height, width = sample['ori_shape'][:2]
            if tuple(prob.shape) != (height, width):
                raise ValueError(f'prediction {tuple(prob.shape)} is not at the original size {(height, width)}')
            target, valid = self._target(sample['img_id'], height, width)
            accumulator = BinarySegAccumulator(self.threshold)
            accumulator.add(prob.float().clamp(0, 1), target, valid)
            self.results.append(accumulator)

    def compute_metrics(self, results: list) -> dict[str, float]:
        total = BinarySegAccumulator(self.threshold)
        for accumulator in results:
            total.merge(accumulator)
        metrics = total.evaluate()
        metrics.pop('num_images')
        return {name: round(value, 4) for name, value in metrics.items()}
