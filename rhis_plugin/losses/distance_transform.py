"""Exact Euclidean distance transforms in torch (on the device where the targets live).

Squared distances separate over the axes (Felzenszwalb and Huttenlocher, "Distance Transforms of Sampled
Functions", 2012): a min-plus pass along W, then along H, gives the exact Euclidean distance. Each pass is a
broadcast min over one axis, O(H*W*(H+W)) per mask, chunked to bound memory. On the CPU, where OpenCV is installed
(the mmdet and Ultralytics extras), its exact linear-time transform (``DIST_MASK_PRECISE``) gives the same distances
ten to twenty times faster: the torch passes cost about an eighth of a CPU training step of the head at 128x96 masks.
"""
from __future__ import annotations

import importlib.util

import numpy as np
import torch

__all__ = ['distance_to_mask', 'signed_distance']

_CHUNK_ELEMENTS = 1 << 24


def _min_plus(f: torch.Tensor) -> torch.Tensor:
    """out[..., i] = min_j f[..., j] + (i - j)^2 along the last axis."""
    length = f.shape[-1]
    idx = torch.arange(length, device=f.device, dtype=f.dtype)
    offsets = (idx[:, None] - idx[None, :]) ** 2                     # [i, j]
    rows = f.reshape(-1, length)
    chunk = max(1, _CHUNK_ELEMENTS // (length * length))
    out = torch.cat([(part[:, None, :] + offsets).amin(-1) for part in rows.split(chunk)])
    return out.reshape(f.shape)


def distance_to_mask(mask: torch.Tensor, backend: str = 'auto') -> torch.Tensor:
    """Distance of every pixel of [..., H, W] to the nearest True pixel (0 on the mask).

    Where a mask is empty, every distance is ``H + W`` (larger than any distance inside the image). ``backend``:
    ``'auto'`` (OpenCV for CPU tensors where it is installed, else torch), ``'torch'`` or ``'opencv'``.
    """
    if backend not in ('auto', 'torch', 'opencv'):
        raise ValueError(f"backend must be 'auto', 'torch' or 'opencv', got {backend!r}")
    if backend == 'opencv' or (backend == 'auto' and mask.device.type == 'cpu' and _HAS_OPENCV):
        return _distance_opencv(mask)
    height, width = mask.shape[-2:]
    big = float((height + width) ** 2)
    f = torch.where(mask.bool(), 0.0, big).to(torch.float32)
    f = _min_plus(f)                                                 # along W
    f = _min_plus(f.transpose(-1, -2)).transpose(-1, -2)            # along H
    return f.clamp(max=big).sqrt().clamp(max=float(height + width))


def _distance_opencv(mask: torch.Tensor) -> torch.Tensor:
    from ..data.distance_map import distance_to_mask_map      # imported here: rhis_plugin.data is heavier than this

    height, width = mask.shape[-2:]
    planes = mask.bool().reshape(-1, height, width).cpu().numpy()
    out = np.empty(planes.shape, np.float32)
    for index, plane in enumerate(planes):
        out[index] = distance_to_mask_map(plane)
    return torch.from_numpy(out).reshape(mask.shape).to(mask.device)


_HAS_OPENCV = importlib.util.find_spec('cv2') is not None


def signed_distance(mask: torch.Tensor, backend: str = 'auto') -> torch.Tensor:
    """Signed distance to the mask border: > 0 inside (distance to the nearest outside pixel), < 0 outside.

    Pixel-centre convention: a pixel next to the border is at distance 1 from the nearest pixel across it.
    """
    mask = mask.bool()
    return torch.where(mask, distance_to_mask(~mask, backend), -distance_to_mask(mask, backend))
