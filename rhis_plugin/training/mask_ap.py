"""Oracle-box mask AP: COCO mask AP of a model on GT boxes, masks pasted back at each image's original size.

The one evaluation the framework-free tools share (``rhis demo``, ``tools/train_rhis.py``, ``tools/bench_quality.py``,
``tools/train_starter.py``): every GT person box goes through the model, masks are ranked by their mean probability
(:data:`~rhis_plugin.data.coco_eval.ORACLE_BOX_SCORE`), crowd regions are crowd ground truth as in COCO, and the
occluded subset (persons whose box holds >= 10 % of another person's pixels) is scored on its own.
"""
from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from ..data.coco_eval import CocoAccumulator
from ..data.occlusion import others_in_box
from ..models.rhis import RHIS
from ..postprocess import PostprocessConfig

__all__ = ['OCCLUDED', 'mask_ap_on_gt_boxes']

OCCLUDED = 0.1


@torch.no_grad()
def mask_ap_on_gt_boxes(model: RHIS, dataset: Dataset, device: str | torch.device = 'cpu',
                        postprocess: PostprocessConfig = PostprocessConfig()) -> dict[str, float]:
    """``segm_AP`` / ``segm_AP50`` / ``segm_AP75`` on all persons, ``segm_AP_occluded`` (NaN without occluded
    persons) and ``occluded_instances``. ``dataset`` yields samples at original size (no ``image_size``)."""
    model.to(device).eval()
    everyone, occluded = CocoAccumulator(), CocoAccumulator()
    occluded_count = 0
    for index in range(len(dataset)):
        sample = dataset[index]
        height, width = sample['image'].shape[-2:]
        gt = sample['masks'].numpy()
        crowd = sample['crowd'].numpy() if 'crowd' in sample else None
        hidden = others_in_box(list(gt)) >= OCCLUDED if len(gt) else np.zeros(0, bool)
        occluded_count += int(hidden.sum())
        all_id = everyone.add_image(height, width, gt, crowd)
        occ_id = occluded.add_image(height, width, gt[hidden], crowd)
        if len(gt) == 0:
            continue
        pasted = model.predict(sample['image'][None].to(device), [sample['boxes'].to(device)], postprocess)[0]
        boxes, scores, masks = sample['boxes'].numpy(), pasted.scores.cpu().numpy(), pasted.masks.cpu().numpy()
        everyone.add_detections(all_id, boxes, scores, masks)
        occluded.add_detections(occ_id, boxes[hidden], scores[hidden], masks[hidden])
    result = {k: v for k, v in everyone.evaluate().items() if k.startswith('segm')}
    result['segm_AP_occluded'] = occluded.evaluate()['segm_AP'] if occluded_count else float('nan')
    result['occluded_instances'] = occluded_count
    return result
