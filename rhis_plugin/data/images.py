"""Images between numpy (H, W, 3) uint8 RGB and torch [3, H, W] float in [0, 1], the form RHIS takes."""
from __future__ import annotations

import numpy as np
import torch

__all__ = ['rgb_to_tensor']


def rgb_to_tensor(image: np.ndarray) -> torch.Tensor:
    """(H, W, 3) uint8 RGB array -> [3, H, W] float32 tensor in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float() / 255
