"""Mask AP of an Ultralytics detector + RHIS on a person dataset (pycocotools at the original image size)."""
from __future__ import annotations

from typing import Any

from torch.utils.data import Dataset

from ..data.coco_eval import CocoAccumulator
from .predict import add_rhis, person_class_ids
from .train import bgr_uint8

__all__ = ['evaluate_mask_ap']


def evaluate_mask_ap(detector: Any, dataset: Dataset, conf: float = 0.001, imgsz: int = 640,
                     max_det: int = 100, **rhis_options: Any) -> dict[str, float]:
    """COCO box and mask AP of detector + RHIS on a person dataset at original image size.

    ``dataset`` yields original-size samples (``image_size=None``); ``rhis_options`` go to ``add_rhis``
    (``weights``, ``preset``, ...) unless the detector already has RHIS attached (pass ``attach=False``).
    Keys follow Ultralytics' segment validator: ``metrics/mAP50(B)``, ``metrics/mAP50-95(B)``,
    ``metrics/mAP50(M)``, ``metrics/mAP50-95(M)``.
    """
    if rhis_options.pop('attach', True):
        add_rhis(detector, **rhis_options)
    person = person_class_ids(detector.names)
    accumulator = CocoAccumulator()
    for index in range(len(dataset)):
        sample = dataset[index]
        image_id = accumulator.add_image(*sample['image'].shape[-2:], sample['masks'].numpy())
        result = detector.predict(bgr_uint8(sample['image']), conf=conf, classes=person, imgsz=imgsz,
                                  max_det=max_det, verbose=False)[0]
        if result.masks is not None:
            accumulator.add_detections(image_id, result.boxes.xyxy.cpu().numpy(), result.boxes.conf.cpu().numpy(),
                                       result.masks.data.cpu().numpy() > 0.5)
    coco = accumulator.evaluate()
    return {'metrics/mAP50(B)': coco['bbox_AP50'], 'metrics/mAP50-95(B)': coco['bbox_AP'],
            'metrics/mAP50(M)': coco['segm_AP50'], 'metrics/mAP50-95(M)': coco['segm_AP']}
