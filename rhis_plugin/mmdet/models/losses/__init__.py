"""Losses of the detectors this package adds (RT-DETR's IoU-aware varifocal loss)."""
from .rhis_varifocal_loss import RHISVarifocalLoss

__all__ = ['RHISVarifocalLoss']
