"""Training the RHIS head with a frozen Ultralytics detector, and mask AP of detector + RHIS."""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from ..data.coco_eval import CocoAccumulator
from ..models import build_rhis
from ..models.rhis import RHIS
from ..training import TrainConfig, train_rhis
from .segmenter import add_rhis, person_class_ids

__all__ = ['detector_proposals', 'train_head_frozen', 'evaluate_mask_ap']


def _to_bgr_uint8(image: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray((image.permute(1, 2, 0).cpu().numpy()[..., ::-1] * 255).round().astype(np.uint8))


def detector_proposals(detector: Any, classes: Sequence[int] | None, conf: float = 0.25,
                       imgsz: int = 640) -> Callable[[torch.Tensor], list[torch.Tensor]]:
    """A ``proposals_fn`` for :func:`~rhis_plugin.training.train_rhis`: the frozen detector's boxes."""
    def proposals(images: torch.Tensor) -> list[torch.Tensor]:
        results = detector.predict([_to_bgr_uint8(im) for im in images], conf=conf, classes=classes, imgsz=imgsz,
                                   verbose=False)
        return [r.boxes.xyxy.float().cpu() for r in results]
    return proposals


def train_head_frozen(detector: Any, dataset: Dataset, preset: str = 'rhis_b0_64x48',
                      cfg: TrainConfig = TrainConfig(), detector_boxes: bool = True, detector_conf: float = 0.25,
                      imgsz: int = 640, device: str = 'cpu', model: RHIS | None = None) -> RHIS:
    """Trains an RHIS head on ``dataset`` while ``detector`` (YOLO/RT-DETR) stays frozen (it is only run)."""
    model = model or build_rhis(preset)
    proposals = None
    if detector_boxes:
        proposals = detector_proposals(detector, person_class_ids(detector.names), detector_conf, imgsz)
    train_rhis(model, dataset, cfg, device=device, proposals_fn=proposals)
    return model


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
        result = detector.predict(_to_bgr_uint8(sample['image']), conf=conf, classes=person, imgsz=imgsz,
                                  max_det=max_det, verbose=False)[0]
        if result.masks is not None:
            accumulator.add_detections(image_id, result.boxes.xyxy.cpu().numpy(), result.boxes.conf.cpu().numpy(),
                                       result.masks.data.cpu().numpy() > 0.5)
    coco = accumulator.evaluate()
    return {'metrics/mAP50(B)': coco['bbox_AP50'], 'metrics/mAP50-95(B)': coco['bbox_AP'],
            'metrics/mAP50(M)': coco['segm_AP50'], 'metrics/mAP50-95(M)': coco['segm_AP']}
