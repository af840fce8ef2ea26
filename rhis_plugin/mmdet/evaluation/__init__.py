"""Evaluation metrics."""
from .metrics import BinarySegMetric

__all__ = ['BinarySegMetric']
