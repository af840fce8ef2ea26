"""Whole-image binary people segmentation: a segmentation-models-pytorch ``Unet`` with an EfficientNet encoder.

The class *is* an ``smp.Unet`` (same parameter names), so people-segmentation checkpoints trained with smp,
such as the reference implementation's ``best_model_b0_*.pth``, load with ``load_state_dict``.
"""
from __future__ import annotations

import segmentation_models_pytorch as smp
import torch
import torch.nn.functional as F

__all__ = ['PeopleSegUNet', 'IMAGENET_MEAN', 'IMAGENET_STD']

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class PeopleSegUNet(smp.Unet):
    """Binary person/background UNet over RGB images in [0, 1] of any size.

    ImageNet normalisation happens inside; inputs are padded to a multiple of 32 and outputs cropped back.
    With ``frozen=True`` (the RHIS default) parameters take no gradient and the module stays in eval mode,
    so its BatchNorm statistics never change while the instance head trains.

    Args:
        encoder_name: smp encoder, e.g. ``timm-efficientnet-b0``, ``-b1``, ``-b7``.
        encoder_weights: smp pretrained encoder weights (``'imagenet'`` downloads; ``None`` random init).
        frozen: freeze as described above.
        decoder_channels: smp decoder widths; the last one is the width of :meth:`forward`'s feature map.
    """

    def __init__(self, encoder_name: str = 'timm-efficientnet-b0', encoder_weights: str | None = None,
                 frozen: bool = True, decoder_channels: tuple[int, ...] = (256, 128, 64, 32, 16)) -> None:
        super().__init__(encoder_name=encoder_name, encoder_weights=encoder_weights, classes=1,
                         decoder_channels=decoder_channels)
        # Not persistent: the state dict stays exactly smp's.
        self.register_buffer('mean', torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer('std', torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.feature_channels = decoder_channels[-1]
        self.frozen = frozen
        if frozen:
            self.requires_grad_(False)
            self.eval()

    def train(self, mode: bool = True) -> 'PeopleSegUNet':
        return super().train(mode and not self.frozen)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns person logits [B, 1, H, W] and the last decoder feature map [B, C, H, W]."""
        height, width = images.shape[-2:]
        x = (images - self.mean) / self.std
        pad_h, pad_w = (-height) % 32, (-width) % 32
        if pad_h or pad_w:
            x = F.pad(x, (0, pad_w, 0, pad_h), mode='replicate')
        features = self.decoder(self.encoder(x))
        logits = self.segmentation_head(features)
        return logits[..., :height, :width], features[..., :height, :width]
