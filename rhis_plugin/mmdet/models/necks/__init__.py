"""Necks: RT-DETR's hybrid encoder (AIFI + CCFM)."""
from .rhis_hybrid_encoder import RHISHybridEncoder

__all__ = ['RHISHybridEncoder']
