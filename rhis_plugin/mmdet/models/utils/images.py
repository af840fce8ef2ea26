"""From a data preprocessor's batch back to what RHIS takes: RGB images in [0, 1]."""
from __future__ import annotations

import torch
import torch.nn as nn


def images_rgb01(data_preprocessor: nn.Module, batch_inputs: torch.Tensor) -> torch.Tensor:
    """Undoes ``DetDataPreprocessor``'s normalisation and channel order (padding stays, as the mean colour)."""
    images = batch_inputs.float()
    if getattr(data_preprocessor, '_enable_normalize', False):
        images = images * data_preprocessor.std + data_preprocessor.mean
    if not getattr(data_preprocessor, '_channel_conversion', False):
        images = images.flip(1)   # mmcv loads BGR; without bgr_to_rgb the batch is still BGR
    return (images / 255.0).clamp(0.0, 1.0)
