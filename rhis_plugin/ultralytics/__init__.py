"""Ultralytics integration: RHIS masks for YOLO and RT-DETR boxes."""
from .._optional import require

require('ultralytics', extra='ultralytics', feature='rhis_plugin.ultralytics')
