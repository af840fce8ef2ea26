"""Ultralytics integration: RHIS masks for YOLO and RT-DETR boxes.

``add_rhis(model, weights=...)`` registers a callback on ``on_predict_postprocess_end`` so that
``model.predict``/``model.track`` results carry per-person ``masks``; ``rhis-yolo`` is the command line.
"""
from .._optional import require

require('ultralytics', extra='ultralytics', feature='rhis_plugin.ultralytics')

from .segmenter import RHISSegmenter, SegmenterOptions, add_rhis, person_class_ids  # noqa: E402

__all__ = ['RHISSegmenter', 'SegmenterOptions', 'add_rhis', 'person_class_ids']
