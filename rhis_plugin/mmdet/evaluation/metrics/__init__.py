"""Metrics: the people-seg stage's binary person/background scores (mask AP is mmdet's CocoMetric)."""
from .binary_seg_metric import BinarySegMetric

__all__ = ['BinarySegMetric']
