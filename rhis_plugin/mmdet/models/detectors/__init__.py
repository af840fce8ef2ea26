"""Detectors: ``RHISDetector`` (any mmdet detector + the RHIS head), ``RHISTwoStageDetector`` (RHIS as the mask
branch of a two-stage detector) and ``RHISRTDETR`` (RT-DETR, which mmdet 3.3 lacks)."""
from .rhis_detector import RHISDetector, UntrainedDetectorWarning
from .rhis_rtdetr import RHISRTDETR
from .rhis_two_stage_detector import RHISTwoStageDetector

__all__ = ['RHISDetector', 'RHISRTDETR', 'RHISTwoStageDetector', 'UntrainedDetectorWarning']
