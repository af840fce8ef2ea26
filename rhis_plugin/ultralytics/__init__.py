"""Ultralytics integration: RHIS masks for YOLO and RT-DETR boxes, files named as Ultralytics names a task's.

- ``predict``: ``add_rhis(model, weights=...)`` registers a callback on ``on_predict_postprocess_end`` so that
  ``model.predict``/``model.track`` results carry per-person ``masks``; ``rhis-yolo`` is the command line.
- ``train``: the head under a frozen detector (``train_head_frozen``), or jointly (``RHISJointTrainer``).
- ``val``: mask AP of detector + RHIS (``evaluate_mask_ap``).
- ``data``: YOLO-seg and COCO person datasets (``load_person_dataset``, ``coco_to_yolo_seg``).
"""
from .._optional import require

require('ultralytics', extra='ultralytics', feature='rhis_plugin.ultralytics')

from .data import YoloSegDataset, coco_to_yolo_seg, load_person_dataset  # noqa: E402
from .predict import RHISSegmenter, SegmenterOptions, add_rhis, letterbox_geometry, person_class_ids  # noqa: E402
from .train import (RHISDetectionModel, RHISJointTrainer, detector_proposals, rhis_joint_trainer,  # noqa: E402
                    train_head_frozen)
from .val import evaluate_mask_ap  # noqa: E402

__all__ = ['YoloSegDataset', 'coco_to_yolo_seg', 'load_person_dataset', 'RHISSegmenter', 'SegmenterOptions',
           'add_rhis', 'letterbox_geometry', 'person_class_ids', 'RHISDetectionModel', 'RHISJointTrainer', 'detector_proposals',
           'rhis_joint_trainer', 'train_head_frozen', 'evaluate_mask_ap']
