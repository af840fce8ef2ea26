"""ROI conventions and input checks.

The model contract (shared with the reference's ONNX files): ``rois`` is [N, 5] float with rows
``(batch_idx, x1, y1, x2, y2)``, coordinates normalised to [0, 1] of the image width and height, in
continuous pixel coordinates (0 is the left edge of the first pixel, 1 the right edge of the last one).
"""
from __future__ import annotations

from typing import Sequence

import torch

__all__ = ['size_tensor', 'check_images', 'check_rois', 'clip_rois', 'image_size_of', 'rois_to_pixels', 'boxes_to_rois']

Size = int | torch.Tensor


def image_size_of(images: torch.Tensor) -> tuple[Size, Size]:
    """(H, W) of [..., H, W]: Python ints, or 0-dim tensors while tracing for ONNX export, so that the exported
    graph computes them from its input (a traced Python int would be baked in as the export size)."""
    if torch.jit.is_tracing():
        shape = torch._shape_as_tensor(images)
        return shape[-2], shape[-1]
    return int(images.shape[-2]), int(images.shape[-1])


def size_tensor(value: Size) -> torch.Tensor:
    """A frame dimension as a float tensor: traced shapes stay in the ONNX graph, Python ints become tensors."""
    return value.float() if isinstance(value, torch.Tensor) else torch.tensor(float(value))


def check_images(images: object) -> None:
    """Raises ValueError unless ``images`` is a float tensor [B, 3, H, W]."""
    if not isinstance(images, torch.Tensor):
        raise ValueError(f'images must be a torch.Tensor [B, 3, H, W], got {type(images).__name__}')
    if not images.is_floating_point():
        raise ValueError(f'images must be a float tensor with values in [0, 1], got dtype {images.dtype}; '
                         'divide uint8 images by 255')
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f'images must have shape [B, 3, H, W], got {list(images.shape)}')
    if images.shape[0] == 0 or images.shape[2] < 1 or images.shape[3] < 1:
        raise ValueError(f'images must hold at least one non-empty image, got shape {list(images.shape)}')


def check_rois(rois: object, batch_size: int) -> None:
    """Raises ValueError unless ``rois`` is a valid [N, 5] float tensor for a batch of ``batch_size``."""
    if not isinstance(rois, torch.Tensor):
        raise ValueError(f'rois must be a torch.Tensor [N, 5], got {type(rois).__name__}')
    if not rois.is_floating_point():
        raise ValueError(f'rois must be a float tensor, got dtype {rois.dtype}')
    if rois.ndim != 2 or rois.shape[1] != 5:
        raise ValueError(f'rois must have shape [N, 5] = (batch_idx, x1, y1, x2, y2), got {list(rois.shape)}')
    if rois.numel() == 0:
        return
    bad = ~torch.isfinite(rois).all(dim=1)
    if bad.any():
        raise ValueError(f'rois contain NaN or inf (rows {bad.nonzero().flatten().tolist()[:10]})')
    batch_idx = rois[:, 0]
    bad = (batch_idx != batch_idx.round()) | (batch_idx < 0) | (batch_idx >= batch_size)
    if bad.any():
        raise ValueError(f'rois batch_idx must be an integer in [0, {batch_size - 1}] '
                         f'(rows {bad.nonzero().flatten().tolist()[:10]})')
    bad = (rois[:, 3] < rois[:, 1]) | (rois[:, 4] < rois[:, 2])
    if bad.any():
        raise ValueError(f'rois need x2 >= x1 and y2 >= y1 (rows {bad.nonzero().flatten().tolist()[:10]})')
    if rois[:, 1:].abs().max() > 8:
        raise ValueError('rois coordinates must be normalised to [0, 1] of the image size; got values far '
                         'outside (pixel coordinates? use boxes_to_rois)')


def clip_rois(rois: torch.Tensor) -> torch.Tensor:
    """Clips the box coordinates to the image, [0, 1]."""
    return torch.cat([rois[:, :1], rois[:, 1:].clamp(0.0, 1.0)], dim=1)


def rois_to_pixels(rois: torch.Tensor, height: Size, width: Size) -> torch.Tensor:
    """Normalised rois -> rois in pixel coordinates (the form ``torchvision.ops.roi_align`` takes). ``height`` and
    ``width`` may be tensors (see :func:`image_size_of`)."""
    if isinstance(height, torch.Tensor) or isinstance(width, torch.Tensor):
        h, w = size_tensor(height).to(rois.dtype), size_tensor(width).to(rois.dtype)
        return rois * torch.stack([torch.ones_like(h), w, h, w, h])
    return rois * rois.new_tensor([1.0, width, height, width, height])


def boxes_to_rois(boxes: Sequence[torch.Tensor], height: int, width: int) -> torch.Tensor:
    """Per-image absolute pixel boxes [Ni, 4] (x1, y1, x2, y2) -> normalised rois [sum Ni, 5]."""
    rows = []
    for index, b in enumerate(boxes):
        b = torch.as_tensor(b, dtype=torch.float32)
        if b.ndim != 2 or b.shape[-1] != 4:
            raise ValueError(f'boxes of image {index} must have shape [N, 4], got {list(b.shape)}')
        scale = b.new_tensor([width, height, width, height])
        rows.append(torch.cat([b.new_full((len(b), 1), float(index)), b / scale], dim=1))
    return torch.cat(rows) if rows else torch.zeros(0, 5)
