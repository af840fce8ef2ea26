"""Mask refinement: dilation, a guided filter that snaps mask edges to image edges, and Gaussian smoothing.

Guided filter: He, Sun and Tang, "Guided Image Filtering", TPAMI 2013 (box-filter form, O(1) per pixel), and
its fast form (He and Sun, "Fast Guided Filter", 2015): coefficients on a subsampled grid, applied at full size.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = ['dilate', 'box_filter', 'guided_filter', 'fast_guided_filter', 'gaussian_smooth']


def dilate(masks: torch.Tensor, pixels: int) -> torch.Tensor:
    """Morphological dilation of [..., H, W] masks (bool or float) by a (2k+1)^2 square."""
    if pixels < 0:
        raise ValueError(f'dilation must be >= 0 pixels, got {pixels}')
    if pixels == 0:
        return masks
    shape = masks.shape
    x = masks.reshape(-1, 1, *shape[-2:]).float()
    x = F.max_pool2d(x, 2 * pixels + 1, stride=1, padding=pixels)
    x = x.reshape(shape)
    return x.bool() if masks.dtype == torch.bool else x


def box_filter(x: torch.Tensor, radius: int) -> torch.Tensor:
    """Mean over a (2r+1)^2 window of [B, C, H, W], normalised at the borders by the true window size."""
    return F.avg_pool2d(x, 2 * radius + 1, stride=1, padding=radius, count_include_pad=False)


def _gray(guide: torch.Tensor) -> torch.Tensor:
    if guide.shape[1] == 3:
        return 0.299 * guide[:, 0:1] + 0.587 * guide[:, 1:2] + 0.114 * guide[:, 2:3]
    return guide


def _coefficients(guide: torch.Tensor, src: torch.Tensor, radius: int,
                  eps: float | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    mean_i = box_filter(guide, radius)
    mean_p = box_filter(src, radius)
    cov_ip = box_filter(guide * src, radius) - mean_i * mean_p
    var_i = box_filter(guide * guide, radius) - mean_i * mean_i
    a = cov_ip / (var_i + eps)
    b = mean_p - a * mean_i
    return box_filter(a, radius), box_filter(b, radius)


def _check_pair(guide: torch.Tensor, src: torch.Tensor) -> None:
    if not torch.jit.is_tracing() and guide.shape[-2:] != src.shape[-2:]:
        raise ValueError(f'guide {list(guide.shape)} and src {list(src.shape)} must share H and W')


def guided_filter(guide: torch.Tensor, src: torch.Tensor, radius: int = 4,
                  eps: float | torch.Tensor = 1e-3) -> torch.Tensor:
    """Edge-preserving smoothing of ``src`` [B, 1, H, W] following the edges of ``guide`` [B, C, H, W].

    A colour guide is reduced to its luminance (the gray-guide form of the filter). Values of ``guide`` are
    expected in [0, 1]; ``eps`` is the regularisation on that scale (smaller keeps more of the guide's edges).
    """
    _check_pair(guide, src)
    guide = _gray(guide)
    a, b = _coefficients(guide, src, radius, eps)
    return a * guide + b


def fast_guided_filter(guide: torch.Tensor, src: torch.Tensor, radius: int = 4, eps: float | torch.Tensor = 1e-3,
                       subsample: int = 4) -> torch.Tensor:
    """:func:`guided_filter` with the coefficients computed at 1/``subsample`` resolution (radius scaled too).

    Costs about 1/subsample^2 of the box filtering; edges still come from the full-resolution guide.
    """
    _check_pair(guide, src)
    if subsample <= 1:
        return guided_filter(guide, src, radius, eps)
    guide = _gray(guide)
    size = guide.shape[-2:]
    low = (max(1, size[0] // subsample), max(1, size[1] // subsample))
    a, b = _coefficients(F.interpolate(guide, size=low, mode='bilinear', align_corners=False),
                         F.interpolate(src, size=low, mode='bilinear', align_corners=False),
                         max(1, radius // subsample), eps)
    a = F.interpolate(a, size=size, mode='bilinear', align_corners=False)
    b = F.interpolate(b, size=size, mode='bilinear', align_corners=False)
    return a * guide + b


def gaussian_smooth(x: torch.Tensor, sigma: float = 1.0) -> torch.Tensor:
    """Separable Gaussian blur of [B, C, H, W] with reflect padding."""
    if sigma <= 0:
        return x
    radius = max(1, int(math.ceil(3 * sigma)))
    t = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    kernel = torch.exp(-0.5 * (t / sigma) ** 2)
    kernel = kernel / kernel.sum()
    channels = x.shape[1]
    pad_mode = 'reflect' if min(x.shape[-2:]) > radius else 'replicate'
    x = F.pad(x, (radius, radius, radius, radius), mode=pad_mode)
    x = F.conv2d(x, kernel.view(1, 1, 1, -1).expand(channels, 1, 1, -1), groups=channels)
    return F.conv2d(x, kernel.view(1, 1, -1, 1).expand(channels, 1, -1, 1), groups=channels)
