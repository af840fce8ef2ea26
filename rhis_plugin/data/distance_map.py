"""Signed distance maps for boundary losses, computed on the CPU in the data pipeline (OpenCV's exact EDT).

OpenCV is imported on first use: it comes with the mmdet and Ultralytics extras, not with the core.
"""
from __future__ import annotations

import numpy as np

__all__ = ['signed_distance_map']


def signed_distance_map(mask: np.ndarray) -> np.ndarray:
    """float32 [H, W]: > 0 inside the mask (distance to the nearest outside pixel), < 0 outside.

    Same convention as :func:`rhis_plugin.losses.signed_distance`. An empty or full mask gives a constant
    ``-(H + W)`` or ``H + W`` (farther than any pixel of the image).
    """
    if mask.ndim != 2:
        raise ValueError(f'expected a [H, W] mask, got shape {mask.shape}')
    inside = (mask > 0).astype(np.uint8)
    height, width = inside.shape
    far = np.float32(height + width)
    if not inside.any():
        return np.full(inside.shape, -far, np.float32)
    if inside.all():
        return np.full(inside.shape, far, np.float32)
    import cv2

    depth = cv2.distanceTransform(inside, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    outside = cv2.distanceTransform(1 - inside, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return np.where(inside > 0, depth, -outside).astype(np.float32)
