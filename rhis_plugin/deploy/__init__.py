"""Deployment: ONNX export with the RHIS contract, an ONNX Runtime backend, detector adapters and the predict loop.

Importing this package needs no onnx: the framework-free helpers (frame reading, overlays, the predict loop with
a PyTorch checkpoint) work on a core install; ONNX export and inference name the ``onnx`` extra when it is
missing.
"""
from .detectors import (Detections, JsonDetections, MMDetDetector, OnnxDetrDetector, OnnxYoloxDetector,
                        UltralyticsDetector, load_detector)
from .end_to_end import EndToEndResult, OnnxEndToEnd, export_end_to_end
from .evaluate import evaluate_rhis, format_evaluation, write_evaluation
from .export import ExportWrapper, export_onnx
from .export_refiner import FixedGuidedFilter, export_refiner_onnx
from .onnx_session import default_providers, onnx_session
from .pipeline import RHISBackend, draw_overlay, iter_frames, run_predict
from .runtime import OnnxRHIS

__all__ = ['Detections', 'JsonDetections', 'MMDetDetector', 'OnnxDetrDetector', 'OnnxYoloxDetector',
           'UltralyticsDetector', 'load_detector', 'EndToEndResult', 'OnnxEndToEnd', 'export_end_to_end', 'evaluate_rhis',
           'format_evaluation', 'write_evaluation', 'ExportWrapper',
           'export_onnx', 'FixedGuidedFilter',
           'export_refiner_onnx', 'default_providers', 'onnx_session', 'RHISBackend', 'draw_overlay', 'iter_frames',
           'run_predict', 'OnnxRHIS']
