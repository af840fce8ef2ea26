"""Whole-image binary people segmentation: a segmentation-models-pytorch ``Unet``.

The class *is* an ``smp.Unet`` (same parameter names), so people-segmentation checkpoints trained with smp,
such as the reference implementation's ``best_model_b0_*.pth``, load with ``load_state_dict``.
Encoders: EfficientNet B0/B1/B7 as RHIS uses them, and the MobileNet family of lightweight human-segmentation
work (MobileNetV3 large/small at several widths, MobileNetV2, MobileNetV1-style depthwise blocks through timm).
"""
from __future__ import annotations

from typing import Sequence

import segmentation_models_pytorch as smp
import torch
import torch.nn as nn
import torch.nn.functional as F

from .imagenet import IMAGENET_NORMALIZATION, encoder_normalization
from .rois import image_size_of

__all__ = ['PeopleSegUNet', 'PEOPLESEG_ENCODERS', 'IMAGENET_MEAN', 'IMAGENET_STD']

# Short names for the encoders this project builds and tests; any other smp encoder name works too.
PEOPLESEG_ENCODERS = {
    'efficientnet_b0': 'timm-efficientnet-b0',
    'efficientnet_b1': 'timm-efficientnet-b1',
    'efficientnet_b7': 'timm-efficientnet-b7',
    'efficientnet_lite0': 'tu-tf_efficientnet_lite0',
    'efficientnet_lite1': 'tu-tf_efficientnet_lite1',
    'efficientnet_lite2': 'tu-tf_efficientnet_lite2',
    'mobilenetv3_large_100': 'tu-mobilenetv3_large_100',
    'mobilenetv3_large_075': 'tu-mobilenetv3_large_075',
    'mobilenetv3_small_100': 'tu-mobilenetv3_small_100',
    'mobilenetv3_small_075': 'tu-mobilenetv3_small_075',
    'mobilenetv3_small_050': 'tu-mobilenetv3_small_050',
    'mobilenetv2_100': 'mobilenet_v2',
    'mobilenetv1_100': 'tu-mobilenetv1_100',
}

IMAGENET_MEAN, IMAGENET_STD = IMAGENET_NORMALIZATION


class PeopleSegUNet(smp.Unet):
    """Binary person/background UNet over RGB images in [0, 1] of any size.

    Normalisation happens inside (``mean`` / ``std``, by default what the encoder's ImageNet weights expect);
    inputs are padded to a multiple of 32 and outputs cropped back. With ``frozen=True`` (the RHIS default)
    parameters take no gradient and the module stays in eval mode, so its BatchNorm statistics never change while
    the instance head trains.

    ``weights_origin`` says where the weights came from (a file, ``'trained'``, ``'random'`` when random weights
    were asked for, ``None`` when nobody loaded or trained them); it is kept in RHIS checkpoints and ONNX metadata,
    not in the state dict, which stays exactly smp's.

    Args:
        encoder_name: a key of :data:`PEOPLESEG_ENCODERS` or any smp encoder name (``timm-efficientnet-b0``).
        encoder_weights: smp pretrained encoder weights (``'imagenet'`` downloads; ``None`` random init).
        frozen: freeze as described above.
        decoder_channels: smp decoder widths; the last one is the width of :meth:`forward`'s feature map.
        mean, std: RGB normalisation; ``None``: :func:`~rhis_plugin.models.imagenet.encoder_normalization`.
    """

    def __init__(self, encoder_name: str = 'timm-efficientnet-b0', encoder_weights: str | None = None,
                 frozen: bool = True, decoder_channels: tuple[int, ...] = (256, 128, 64, 32, 16),
                 mean: tuple[float, ...] | None = None, std: tuple[float, ...] | None = None) -> None:
        encoder_name = PEOPLESEG_ENCODERS.get(encoder_name, encoder_name)
        if encoder_name.startswith('tu-') and isinstance(encoder_weights, str):
            encoder_weights = True      # timm-universal encoders name their pretrained tag in the encoder name
        super().__init__(encoder_name=encoder_name, encoder_weights=encoder_weights, classes=1,
                         decoder_channels=decoder_channels)
        self.encoder_name = encoder_name
        self.decoder_channels = tuple(decoder_channels)
        default_mean, default_std = encoder_normalization(encoder_name)
        # Not persistent: the state dict stays exactly smp's.
        self.register_buffer('mean', torch.tensor(mean or default_mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer('std', torch.tensor(std or default_std).view(1, 3, 1, 1), persistent=False)
        self.weights_origin: str | None = None
        self.feature_channels = decoder_channels[-1]
        self.frozen = frozen
        if frozen:
            self.requires_grad_(False)
            self.eval()

    def train(self, mode: bool = True) -> 'PeopleSegUNet':
        return super().train(mode and not self.frozen)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns person logits [B, 1, H, W] and the last decoder feature map [B, C, H, W]."""
        height, width = image_size_of(images)
        x = (images - self.mean) / self.std
        # Always padded (by 0 when the size is a multiple of 32), so an exported graph pads at any input size.
        x = F.pad(x, (0, (32 - width % 32) % 32, 0, (32 - height % 32) % 32), mode='replicate')
        features = self.decoder(self.encoder(x))
        logits = self.segmentation_head(features)
        return logits[..., :height, :width], features[..., :height, :width]

    def forward_features(self, images: torch.Tensor,
                         levels: Sequence[int] = ()) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Person logits and the outputs of the decoder blocks ``levels`` (0 = stride 16 ... 4 = stride 1)."""
        blocks = self.decoder.blocks
        captured: dict[int, torch.Tensor] = {}
        handles = [blocks[level].register_forward_hook(
            lambda module, args, output, level=level: captured.__setitem__(level, output)) for level in levels]
        try:
            logits, _ = self(images)
        finally:
            for handle in handles:
                handle.remove()
        return logits, [captured[level] for level in levels]

    def decoder_widths(self, levels: Sequence[int]) -> list[int]:
        """Channels of the decoder blocks ``levels``."""
        return [self.decoder_channels[level] for level in levels]

    def encoder_stages(self) -> list[nn.Module]:
        """The encoder's stages that hold parameters, input side first (the unit of progressive unfreezing):
        the stem, then each block group (timm's ``blocks``, torchvision's ``features``), else its children."""
        owner = getattr(self.encoder, 'model', self.encoder)
        children = [(name, module) for name, module in owner.named_children() if _has_params(module)]
        for name, container in children:
            if name in ('blocks', 'features') and len(container) > 1:
                stem = [module for other, module in children if other != name]
                stages = ([nn.ModuleList(stem)] if stem else []) + list(container)
                return [stage for stage in stages if _has_params(stage)]
        return [module for _, module in children] or [self.encoder]


def _has_params(module: nn.Module) -> bool:
    return any(True for _ in module.parameters())
