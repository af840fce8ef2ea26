"""RHIS: ROI-based hierarchical instance segmentation of people.

    images [B, 3, H, W] in [0, 1] --> frozen people-seg UNet --> person logits + decoder features
    rois [N, 5] (normalised) ------> RoI Align (torchvision, aligned, sampling_ratio >= 2) of
                                     [normalised RGB | person probability | UNet features] at the ROI size,
                                     and of the person probability at the mask size (2x ROI) as edge guide
                                 --> EfficientNet ROI encoder --> hierarchical head --> 3-class logits

Outputs: ``masks`` [N, 3, mh, mw] logits (0 background, 1 this person, 2 other persons) and
``binary_masks`` [B, 1, H, W] person probability; in training mode also the branch logits and the
auxiliary contour/distance maps the losses use.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Sequence

import torch
import torch.nn as nn
from torchvision.ops import roi_align

from ..postprocess.paste import PastedMasks, PostprocessConfig, paste_batch
from .hierarchical_head import HierarchicalMaskHead
from .peopleseg_unet import PeopleSegUNet
from .roi_encoder import RoIEncoder
from .rois import boxes_to_rois, check_images, check_rois, clip_rois, image_size_of, rois_to_pixels

__all__ = ['RHISConfig', 'RHIS']


ARCHITECTURES = ('rhis', 'upstream', 'fcn', 'unet_in_box', 'box_filled')


@dataclass
class RHISConfig:
    """Architecture of an RHIS model. Presets in :mod:`rhis_plugin.models.presets` fill it in.

    Args:
        architecture: ``'rhis'`` (this package's head), ``'upstream'`` (the reference's), or a benchmark baseline
            (``'fcn'``, ``'unet_in_box'``, ``'box_filled'``; see :mod:`rhis_plugin.models.baselines`).
        unet_encoder: smp encoder of the people-seg UNet (``timm-efficientnet-b0/b1/b7``).
        roi_encoder: timm EfficientNet over the ROI crops (``efficientnet_b0/b1/b7``).
        roi_size: (height, width) of the ROI crop; the mask is twice that.
        decoder_channels: head widths at strides 16, 8, 4, 2, 1 of the ROI.
        branch_channels: width of the two hierarchical branches.
        sampling_ratio: RoI Align samples per output cell and axis (>= 2: true area averaging).
        freeze_unet: keep the people-seg UNet frozen (eval mode, no grad).
        aux_heads: contour and distance heads for the training losses (not used at inference).
    """
    architecture: str = 'rhis'
    unet_encoder: str = 'timm-efficientnet-b0'
    roi_encoder: str = 'efficientnet_b0'
    roi_size: tuple[int, int] = (64, 48)
    decoder_channels: tuple[int, ...] = (96, 64, 48, 32, 32)
    branch_channels: int = 24
    sampling_ratio: int = 2
    freeze_unet: bool = True
    aux_heads: bool = True

    def __post_init__(self) -> None:
        self.roi_size = tuple(int(v) for v in self.roi_size)
        self.decoder_channels = tuple(self.decoder_channels)
        if self.architecture not in ARCHITECTURES:
            raise ValueError(f'architecture must be one of {ARCHITECTURES}, got {self.architecture!r}')
        smallest = 16 if self.architecture in ('rhis', 'upstream') else 7    # RHIS's ROI encoder has stride 16
        if len(self.roi_size) != 2 or min(self.roi_size) < smallest:
            raise ValueError(f'roi_size must be (height, width), both >= {smallest}, got {self.roi_size}')
        if self.sampling_ratio < 1:
            raise ValueError(f'sampling_ratio must be >= 1, got {self.sampling_ratio}')

    @property
    def mask_size(self) -> tuple[int, int]:
        return 2 * self.roi_size[0], 2 * self.roi_size[1]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class RHIS(nn.Module):
    """The RHIS model. Build it with :func:`rhis_plugin.models.build_rhis`."""

    def __init__(self, cfg: RHISConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.peopleseg = PeopleSegUNet(cfg.unet_encoder, frozen=cfg.freeze_unet)
        self.roi_encoder = RoIEncoder(cfg.roi_encoder, in_channels=4)
        self.head = HierarchicalMaskHead(self.roi_encoder.channels, 4 + self.peopleseg.feature_channels,
                                         cfg.decoder_channels, cfg.branch_channels, cfg.aux_heads)

    @property
    def roi_size(self) -> tuple[int, int]:
        return self.cfg.roi_size

    @property
    def mask_size(self) -> tuple[int, int]:
        return self.cfg.mask_size

    @property
    def feature_channels(self) -> int:
        """Channels of the head's ``features`` output."""
        return self.cfg.decoder_channels[-1]

    def forward(self, images: torch.Tensor, rois: torch.Tensor, with_features: bool = False) -> dict[str, torch.Tensor]:
        """images [B, 3, H, W] RGB in [0, 1]; rois [N, 5] (batch_idx, x1, y1, x2, y2) normalised to [0, 1].

        Returns ``masks`` (3-class logits per ROI) and ``binary_masks``; in training also the branch and auxiliary
        outputs and the head's full-resolution ``features`` (``with_features`` adds those in eval mode, e.g. for
        a distillation teacher).
        """
        if not (torch.jit.is_tracing() or torch.onnx.is_in_onnx_export()):
            check_images(images)
            check_rois(rois, images.shape[0])
        height, width = image_size_of(images)
        person_logits, unet_features = self.peopleseg(images)
        out = {'binary_masks': torch.sigmoid(person_logits)}
        if rois.shape[0] == 0 and not torch.jit.is_tracing():
            out['masks'] = images.new_zeros((0, 3, *self.mask_size))
            return out
        boxes = rois_to_pixels(clip_rois(rois.to(images.dtype)), height, width)
        head_out = self.forward_rois(images, person_logits, unet_features, boxes)
        if self.training:
            out.update(head_out)
        else:
            out['masks'] = head_out['masks']
            if with_features:
                out['features'] = head_out['features']
        return out

    def forward_rois(self, images: torch.Tensor, person_logits: torch.Tensor, unet_features: torch.Tensor,
                     boxes: torch.Tensor) -> dict[str, torch.Tensor]:
        """Head outputs for pixel-space rois [N, 5]; auxiliary outputs only in training mode."""
        person_prob = torch.sigmoid(person_logits) * 2 - 1
        normalised_rgb = (images - self.peopleseg.mean) / self.peopleseg.std
        align = dict(spatial_scale=1.0, sampling_ratio=self.cfg.sampling_ratio, aligned=True)
        pooled = roi_align(torch.cat([normalised_rgb, person_prob, unet_features], dim=1), boxes, self.roi_size,
                           **align)
        guide = roi_align(person_prob, boxes, self.mask_size, **align)
        return self.head(self.roi_encoder(pooled[:, :4]), pooled, guide, with_aux=self.training)

    @torch.no_grad()
    def predict(self, images: torch.Tensor, boxes: Sequence[torch.Tensor],
                postprocess: PostprocessConfig = PostprocessConfig(),
                scores: Sequence[torch.Tensor] | None = None) -> list[PastedMasks]:
        """Image-space masks for absolute pixel boxes, one [Ni, 4] (x1, y1, x2, y2) tensor per image.

        ``scores`` (one [Ni] tensor per image, like ``boxes``) are the detection scores: with exclusive masks a
        pixel goes to the highest-scoring instance that claims it, so a low-score duplicate never takes pixels
        from a confident detection. Without them, the mask probability decides.

        Returns:
            One :class:`PastedMasks` per image (bool masks [Ni, H, W] in box order, mask scores [Ni]).
        """
        check_images(images)
        if len(boxes) != images.shape[0]:
            raise ValueError(f'got {len(boxes)} box tensors for {images.shape[0]} images')
        if scores is not None and len(scores) != len(boxes):
            raise ValueError(f'got {len(scores)} score tensors for {len(boxes)} box tensors')
        height, width = images.shape[-2:]
        rois = clip_rois(boxes_to_rois(boxes, height, width).to(images.device))  # pasted where it was cropped
        was_training = self.training
        self.eval()
        try:
            target_probs = torch.softmax(self(images, rois)['masks'], dim=1)[:, 1]
        finally:
            self.train(was_training)
        pixel_boxes = rois_to_pixels(rois, height, width)[:, 1:].split([len(b) for b in boxes])
        return paste_batch(target_probs, pixel_boxes, [(height, width)] * len(boxes), postprocess, images,
                           None if scores is None else [torch.as_tensor(s, device=images.device) for s in scores])
