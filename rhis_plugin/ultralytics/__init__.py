"""Ultralytics integration: RHIS masks for YOLO and RT-DETR boxes, files named as Ultralytics names a task's.

- ``predict``: ``add_rhis(model, weights=...)`` registers a callback on ``on_predict_postprocess_end`` so that
  ``model.predict``/``model.track`` results carry per-person ``masks``.
- ``train``: ``RHISTrainer`` (``rhis_trainer(mode)``): the head under a frozen detector or jointly with it, inside
  Ultralytics' trainer.
- ``val``: ``RHISSegmentationValidator`` (``rhis_validator(weights)``): Ultralytics' segmentation metrics with RHIS
  masks.
- ``export``: the detector plus RHIS as ONNX (``export_with_rhis``).
- ``data``: YOLO-seg and COCO person datasets (``load_person_dataset``, ``coco_to_yolo_seg``).
- ``cli``: ``rhis-yolo``, the ``yolo`` command line with RHIS in every mode.
- ``convert``: a YOLO-seg model's detection part (``segment_to_detect``), to put RHIS under its boxes.
"""
from .._optional import require

require('ultralytics', extra='ultralytics', feature='rhis_plugin.ultralytics')

from .convert import segment_to_detect  # noqa: E402
from .data import YoloSegDataset, coco_to_yolo_seg, load_person_dataset  # noqa: E402
from .export import export_with_rhis  # noqa: E402
from .predict import RHISSegmenter, SegmenterOptions, add_rhis, letterbox_geometry, person_class_ids  # noqa: E402
from .train import RHISDetectionModel, RHISTrainer, build_training_head, rhis_trainer  # noqa: E402
from .val import RHISSegmentationValidator, rhis_validator  # noqa: E402

__all__ = ['YoloSegDataset', 'coco_to_yolo_seg', 'load_person_dataset', 'export_with_rhis', 'RHISSegmenter',
           'SegmenterOptions', 'add_rhis', 'letterbox_geometry', 'person_class_ids', 'RHISDetectionModel',
           'RHISTrainer', 'build_training_head', 'rhis_trainer', 'RHISSegmentationValidator', 'rhis_validator',
           'segment_to_detect']
