"""Distance maps for boundary losses on the CPU (OpenCV's exact EDT): signed ones in the data pipeline, unsigned ones
for the distance term of the RHIS loss on CPU tensors (:mod:`rhis_plugin.losses.distance_transform`).

OpenCV is imported on first use: it comes with the mmdet and Ultralytics extras, not with the core.
"""
from __future__ import annotations

import numpy as np

__all__ = ['signed_distance_map', 'distance_to_mask_map']


def distance_to_mask_map(mask: np.ndarray) -> np.ndarray:
    """float32 [H, W]: distance of every pixel to the nearest pixel of ``mask`` (0 on the mask); ``H + W`` everywhere
    for an empty mask (farther than any pixel of the image), as :func:`rhis_plugin.losses.distance_to_mask`."""
    height, width = mask.shape
    if not (mask > 0).any():
        return np.full(mask.shape, np.float32(height + width), np.float32)
    import cv2

    return cv2.distanceTransform((mask <= 0).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)


def signed_distance_map(mask: np.ndarray) -> np.ndarray:
    """float32 [H, W]: > 0 inside the mask (distance to the nearest outside pixel), < 0 outside.

    Same convention as :func:`rhis_plugin.losses.signed_distance`. An empty or full mask gives a constant
    ``-(H + W)`` or ``H + W`` (farther than any pixel of the image).
    """
    if mask.ndim != 2:
        raise ValueError(f'expected a [H, W] mask, got shape {mask.shape}')
    inside = mask > 0
    return np.where(inside, distance_to_mask_map(~inside), -distance_to_mask_map(inside)).astype(np.float32)
