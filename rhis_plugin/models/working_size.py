"""The people-seg UNet's working size: one geometry for training and inference, whatever the frame size.

The UNet costs ~14 GMAC at 480x640 and ~94 GMAC at 1080p when it runs on the frame, and it would then see people
at a scale it never trained at. Instead every frame is letterboxed to a long side of at most ``working_size``
(aspect ratio kept, anchored top-left, antialiased bilinear resize; smaller frames are not enlarged), the UNet runs
there, and RoI Align reads the person map and UNet features at the working size while the RGB crop comes from the
full-resolution frame. Normalised ROI coordinates are the same in both frames, so boxes map by a per-image scale.

The ONNX graph does the same resize (opset >= 18 ``Resize`` with ``antialias=1``, ``half_pixel``,
``exclude_outside=1``: PyTorch's antialiased bilinear resize to within float rounding), so PyTorch and ONNX answers
agree for any frame size.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F

from .rois import Size, image_size_of, size_tensor

__all__ = ['working_shape', 'to_working_size', 'working_to_frame']


def working_shape(height: Size, width: Size, working_size: int | None) -> tuple[Size, Size]:
    """(height, width) of a ``height`` x ``width`` frame letterboxed to a long side of at most ``working_size``.

    Python ints in, Python ints out; 0-dim tensors (ONNX tracing) in, tensors out. ``None``: the frame's own size.

    Example:
        >>> working_shape(1080, 1920, 320)
        (180, 320)
    """
    if working_size is None:
        return height, width
    if isinstance(height, torch.Tensor) or isinstance(width, torch.Tensor):
        h, w = size_tensor(height), size_tensor(width)
        scale = torch.clamp(working_size / torch.maximum(h, w), max=1.0)
        return torch.round(h * scale).long(), torch.round(w * scale).long()
    scale = min(1.0, working_size / max(height, width))
    return max(1, round(height * scale)), max(1, round(width * scale))


def _resize(images: torch.Tensor, size: tuple[Size, Size]) -> torch.Tensor:
    # Always in a traced graph: a no-op at the export size need not be one at other sizes.
    if not torch.jit.is_tracing() and tuple(images.shape[-2:]) == tuple(size):
        return images
    return F.interpolate(images, size=size, mode='bilinear', align_corners=False, antialias=True)


def to_working_size(images: torch.Tensor, working_size: int | None,
                    image_sizes: Sequence[tuple[int, int]] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Letterboxes a batch to the working size, each image by its own size.

    Args:
        images: [B, 3, H, W]; image i occupies its top-left ``image_sizes[i]`` (a padded batch), or all of it.
        working_size: long side of the working frame (``None``: the frames as they are).
        image_sizes: per image, (h, w) of its valid region (``None``: every image is H x W).

    Returns:
        The working batch [B, 3, h', w'] (each image top-left, its edges replicated) and ``scales`` [B, 2], the per-image
        (x, y) factors from frame pixels to working pixels.
    """
    height, width = image_size_of(images)
    if image_sizes is None and working_size is None:       # the frames as they are (no resize in the graph)
        return images, images.new_ones((images.shape[0], 2))
    if image_sizes is None:
        size = working_shape(height, width, working_size)
        working = _resize(images, size)
        if isinstance(size[0], torch.Tensor):
            scale = torch.stack([size[1].float() / size_tensor(width), size[0].float() / size_tensor(height)])
        else:
            scale = images.new_tensor([size[1] / width, size[0] / height])
        return working, scale.to(images.dtype).expand(images.shape[0], 2)
    if len(image_sizes) != images.shape[0]:
        raise ValueError(f'got {len(image_sizes)} image sizes for {images.shape[0]} images')
    sizes = [working_shape(int(h), int(w), working_size) for h, w in image_sizes]
    canvas_h, canvas_w = max(s[0] for s in sizes), max(s[1] for s in sizes)
    # Padded by replicating each image's edge, as the UNet pads a lone image: the padding changes nothing.
    working = torch.cat([F.pad(_resize(images[i:i + 1, :, :int(h), :int(w)], (wh, ww)),
                               (0, canvas_w - ww, 0, canvas_h - wh), mode='replicate')
                         for i, ((h, w), (wh, ww)) in enumerate(zip(image_sizes, sizes))])
    scales = images.new_tensor([[ww / int(w), wh / int(h)] for (h, w), (wh, ww) in zip(image_sizes, sizes)])
    return working, scales


def working_to_frame(maps: torch.Tensor, frame_size: tuple[int, int], working_size: int | None) -> torch.Tensor:
    """A working-size map [B, C, h', w'] (e.g. ``binary_masks``) -> [B, C, H, W] at the frame size: the frame's
    letterboxed region, bilinearly resized back."""
    height, width = int(frame_size[0]), int(frame_size[1])
    wh, ww = working_shape(height, width, working_size)
    if maps.shape[-2] < wh or maps.shape[-1] < ww:
        raise ValueError(f'a {height}x{width} frame has a {wh}x{ww} working frame (working size {working_size}); '
                         f'the map is only {maps.shape[-2]}x{maps.shape[-1]}')
    maps = maps[..., :wh, :ww]
    if (wh, ww) == (height, width):
        return maps
    return F.interpolate(maps.float(), size=(height, width), mode='bilinear', align_corners=False)
