"""Images between files, numpy (H, W, 3) uint8 RGB and torch [3, H, W] float in [0, 1], the form RHIS takes.

Files are decoded with OpenCV when it is installed, else with Pillow's own opener: once Ultralytics is imported,
``PIL.Image.open`` is its patched version, which tries to pip-install a HEIF plugin at run time for any file Pillow
cannot identify.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

__all__ = ['read_rgb_image', 'rgb_to_tensor']


def read_rgb_image(path: str | Path) -> np.ndarray:
    """Decodes an image file into an (H, W, 3) uint8 RGB array.

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file is not a readable image.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'image not found: {path}')
    try:
        import cv2
    except ImportError:
        cv2 = None
    if cv2 is not None:
        image = cv2.imdecode(np.fromfile(str(path), dtype=np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError(f'cannot read image {path}: not an image OpenCV can decode')
        return np.ascontiguousarray(image[..., ::-1])
    from PIL import Image, UnidentifiedImageError
    try:
        with Image.open(path) as image:      # no Ultralytics without cv2, so this is Pillow's own opener
            return np.asarray(image.convert('RGB'))
    except (OSError, UnidentifiedImageError, ValueError) as error:
        raise ValueError(f'cannot read image {path}: {error}') from error


def rgb_to_tensor(image: np.ndarray) -> torch.Tensor:
    """(H, W, 3) uint8 RGB array -> [3, H, W] float32 tensor in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float() / 255
