"""RHIS: ROI-based hierarchical instance segmentation of people.

    images [B, 3, H, W] in [0, 1] --> letterbox to the working size (long side <= working_size)
                                  --> frozen people-seg UNet --> person logits + decoder features (working size)
    rois [N, 5] (normalised) ------> RoI Align (torchvision, aligned, sampling_ratio >= 2) at the ROI size of
                                     the RGB frame (full resolution) and of [person probability | UNet features]
                                     (working size), and of the person probability at the mask size (2x ROI)
                                     as edge guide
                                 --> EfficientNet ROI encoder --> hierarchical head --> 3-class logits

Outputs: ``masks`` [N, 3, mh, mw] logits (0 background, 1 this person, 2 other persons) and
``binary_masks`` [B, 1, h', w'] person probability at the working size (:func:`working_to_frame` maps it back);
in training mode also the branch logits and the auxiliary contour/distance maps the losses use.
The UNet's cost does not depend on the frame size (see :mod:`rhis_plugin.models.working_size`).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.ops import roi_align

from ..postprocess.paste import PastedMasks, PostprocessConfig, RoIMasks, mask_quality
from .hierarchical_head import HierarchicalMaskHead
from .light_head import (LightAttentionHead, LightCoarseResidualHead, LightFullStemHead, LightHierarchicalMaskHead,
                         LightMaskSizeHead, LightResidualBlocksHead)
from .imagenet import encoder_normalization
from .peopleseg_unet import PeopleSegUNet
from .roi_encoder import RoIEncoder
from .rois import boxes_to_rois, check_images, check_rois, clip_rois, image_size_of, rois_to_pixels
from .weights_origin import warn_if_random_peopleseg
from .working_size import to_working_size, working_to_frame

__all__ = ['RHISConfig', 'RHIS']


ARCHITECTURES = ('rhis', 'upstream', 'fcn', 'unet_in_box', 'box_filled')
HEADS = {'hierarchical': HierarchicalMaskHead, 'light': LightHierarchicalMaskHead,
         'light_mask_size': LightMaskSizeHead, 'light_full_stem': LightFullStemHead,
         'light_residual_blocks': LightResidualBlocksHead, 'light_coarse_residual': LightCoarseResidualHead,
         'light_attention': LightAttentionHead}


@dataclass
class RHISConfig:
    """Architecture of an RHIS model. Presets in :mod:`rhis_plugin.models.presets` fill it in.

    Args:
        architecture: ``'rhis'`` (this package's head), ``'upstream'`` (the reference's), or a benchmark baseline
            (``'fcn'``, ``'unet_in_box'``, ``'box_filled'``; see :mod:`rhis_plugin.models.baselines`).
        unet_encoder: smp encoder of the people-seg UNet (``timm-efficientnet-b0/b1/b7``,
            ``tu-tf_efficientnet_lite0/1/2``).
        roi_encoder: timm EfficientNet over the ROI crops (``efficientnet_b0/b1/b7``, ``tf_efficientnet_lite0/1/2``).
        roi_size: (height, width) of the ROI crop; the mask is twice that.
        decoder_channels: head widths at strides 16, 8, 4, 2, 1 of the ROI.
        branch_channels: width of the two hierarchical branches.
        head: ``'hierarchical'`` (:class:`~rhis_plugin.models.hierarchical_head.HierarchicalMaskHead`),
            ``'light'`` (:class:`~rhis_plugin.models.light_head.LightHierarchicalMaskHead`: depthwise-separable,
            branches at the ROI resolution, edge-guided upsampling; same outputs), or one of the light head's
            ablations, each with one part of the full head: ``'light_mask_size'`` (branch outputs at the mask size),
            ``'light_full_stem'`` (the stem), ``'light_residual_blocks'`` (the decoder blocks;
            ``'light_coarse_residual'``: at strides 8, 4 and 2 only) and ``'light_attention'`` (the ROI-size attention
            gate and the target/non-target spatial attention); see :mod:`rhis_plugin.models.light_head`.
        unet_decoder_channels: the people-seg UNet's decoder widths at strides 16 to 1 (smp's); the last one is the
            width of the UNet features the head crops.
        sampling_ratio: RoI Align samples per output cell and axis (>= 2: true area averaging).
        shared_person_crop: crop the person probability once, at the mask size with half the sampling ratio (the
            same sample points), and average it 2x2 for the ROI-size input: the edge guide is then the finer samples
            themselves instead of a second, area-averaged crop (RoI Align costs per output sample, so one crop fewer
            saves about a fifth of the ROI time in ONNX Runtime). Needs an even ``sampling_ratio``.
        freeze_unet: keep the people-seg UNet frozen (eval mode, no grad).
        working_size: the people-seg UNet runs on each frame letterboxed to this long side (frames are never
            enlarged); ``None`` runs it on the frame itself (the reference's geometry, cost growing with the frame).
        aux_heads: contour and distance heads for the training losses (not used at inference).
        unet_mean, unet_std, roi_mean, roi_std: RGB normalisation of each encoder's input; ``None`` fills in what
            the encoder's ImageNet weights expect (0.5 / 0.5 for EfficientNet-Lite, ImageNet statistics otherwise,
            and for checkpoints written before these fields existed).
    """
    architecture: str = 'rhis'
    unet_encoder: str = 'timm-efficientnet-b0'
    roi_encoder: str = 'efficientnet_b0'
    roi_size: tuple[int, int] = (64, 48)
    decoder_channels: tuple[int, ...] = (96, 64, 48, 32, 32)
    branch_channels: int = 24
    head: str = 'hierarchical'
    unet_decoder_channels: tuple[int, ...] = (256, 128, 64, 32, 16)
    sampling_ratio: int = 2
    shared_person_crop: bool = False
    freeze_unet: bool = True
    aux_heads: bool = True
    working_size: int | None = 320
    unet_mean: tuple[float, ...] | None = None
    unet_std: tuple[float, ...] | None = None
    roi_mean: tuple[float, ...] | None = None
    roi_std: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        self.roi_size = tuple(int(v) for v in self.roi_size)
        for prefix, encoder in (('unet', self.unet_encoder), ('roi', self.roi_encoder)):
            for field, default in zip(('mean', 'std'), encoder_normalization(encoder)):
                value = tuple(float(v) for v in (getattr(self, f'{prefix}_{field}') or default))
                if len(value) != 3 or (field == 'std' and min(value) <= 0):
                    raise ValueError(f'{prefix}_{field} must be 3 RGB values (std > 0), got {value}')
                setattr(self, f'{prefix}_{field}', value)
        self.decoder_channels = tuple(self.decoder_channels)
        self.unet_decoder_channels = tuple(int(c) for c in self.unet_decoder_channels)
        if self.head not in HEADS:
            raise ValueError(f'head must be one of {tuple(HEADS)}, got {self.head!r}')
        if len(self.unet_decoder_channels) != 5 or min(self.unet_decoder_channels) < 1:
            raise ValueError(f'unet_decoder_channels must be 5 positive widths, got {self.unet_decoder_channels}')
        if self.architecture not in ARCHITECTURES:
            raise ValueError(f'architecture must be one of {ARCHITECTURES}, got {self.architecture!r}')
        smallest = 16 if self.architecture in ('rhis', 'upstream') else 7    # RHIS's ROI encoder has stride 16
        if len(self.roi_size) != 2 or min(self.roi_size) < smallest:
            raise ValueError(f'roi_size must be (height, width), both >= {smallest}, got {self.roi_size}')
        if self.working_size is not None and int(self.working_size) < 32:
            raise ValueError(f'working_size must be None or >= 32 pixels, got {self.working_size}')
        if self.sampling_ratio < 1:
            raise ValueError(f'sampling_ratio must be >= 1, got {self.sampling_ratio}')
        if self.shared_person_crop and self.sampling_ratio % 2:
            raise ValueError(f'shared_person_crop needs an even sampling_ratio, got {self.sampling_ratio}')

    @property
    def mask_size(self) -> tuple[int, int]:
        return 2 * self.roi_size[0], 2 * self.roi_size[1]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def build_peopleseg(cfg: RHISConfig) -> PeopleSegUNet:
    """The people-seg UNet a config describes (random init)."""
    return PeopleSegUNet(cfg.unet_encoder, frozen=cfg.freeze_unet, decoder_channels=cfg.unet_decoder_channels,
                         mean=cfg.unet_mean, std=cfg.unet_std)


class RHIS(nn.Module):
    """The RHIS model. Build it with :func:`rhis_plugin.models.build_rhis`."""

    def __init__(self, cfg: RHISConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.peopleseg = build_peopleseg(cfg)
        self.roi_encoder = RoIEncoder(cfg.roi_encoder, in_channels=4)
        self.head = HEADS[cfg.head](self.roi_encoder.channels, 4 + self.peopleseg.feature_channels,
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

    def forward(self, images: torch.Tensor, rois: torch.Tensor, with_features: bool = False,
                image_sizes: Sequence[tuple[int, int]] | None = None) -> dict[str, torch.Tensor]:
        """images [B, 3, H, W] RGB in [0, 1]; rois [N, 5] (batch_idx, x1, y1, x2, y2) normalised to [0, 1] of W, H.

        ``image_sizes`` gives, for a padded batch, each image's (h, w) in its top-left corner: each image is then
        letterboxed to the working size by its own size (``None``: every image fills the batch). Returns ``masks``
        (3-class logits per ROI) and ``binary_masks`` (working size); in training also the branch and auxiliary
        outputs and the head's full-resolution ``features`` (``with_features`` adds those in eval mode, e.g. for a
        distillation teacher).
        """
        if not (torch.jit.is_tracing() or torch.onnx.is_in_onnx_export()):
            check_images(images)
            check_rois(rois, images.shape[0])
        person_logits, unet_features, scales = self.segment_people(images, image_sizes)
        out = {'binary_masks': torch.sigmoid(person_logits)}
        if not torch.jit.is_tracing() and rois.shape[0] == 0:
            out['masks'] = images.new_zeros((0, 3, *self.mask_size))
            return out
        frame_boxes, working_boxes = self.roi_boxes(rois, images, scales)
        head_out = self.forward_rois(images, person_logits, unet_features, frame_boxes, working_boxes)
        if self.training:
            out.update(head_out)
        else:
            out['masks'] = head_out['masks']
            if with_features:
                out['features'] = head_out['features']
        return out

    def segment_people(self, images: torch.Tensor, image_sizes: Sequence[tuple[int, int]] | None = None
                       ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The people-seg UNet at the working size: person logits and features [B, C, h', w'], and the per-image
        (x, y) scales [B, 2] from frame pixels to working pixels."""
        warn_if_random_peopleseg(self)
        working, scales = to_working_size(images, self.cfg.working_size, image_sizes)
        person_logits, unet_features = self.peopleseg(working)
        return person_logits, unet_features, scales

    @staticmethod
    def roi_boxes(rois: torch.Tensor, images: torch.Tensor, scales: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Normalised rois [N, 5] -> clipped pixel boxes [N, 5] in the frame and in the working frame."""
        height, width = image_size_of(images)
        frame_boxes = rois_to_pixels(clip_rois(rois.to(images.dtype)), height, width)
        scale = scales[frame_boxes[:, 0].long()].repeat(1, 2)
        return frame_boxes, torch.cat([frame_boxes[:, :1], frame_boxes[:, 1:] * scale], dim=1)

    def roi_align(self, x: torch.Tensor, boxes: torch.Tensor, size: tuple[int, int],
                  sampling_ratio: int | None = None) -> torch.Tensor:
        """torchvision RoI Align with this model's settings (pixel boxes [N, 5], aligned corners)."""
        return roi_align(x, boxes, size, spatial_scale=1.0, sampling_ratio=sampling_ratio or self.cfg.sampling_ratio,
                         aligned=True)

    def crop_inputs(self, images: torch.Tensor, person_logits: torch.Tensor, unet_features: torch.Tensor,
                    frame_boxes: torch.Tensor, working_boxes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The head's ROI inputs: [normalised RGB (frame) | person probability in [-1, 1] | UNet features] at the
        ROI size, and the person probability at the mask size (the edge guide)."""
        person_prob = torch.sigmoid(person_logits) * 2 - 1
        # Normalising the crop equals cropping the normalised frame (RoI Align averages), at a fraction of the cost.
        mean, std = (images.new_tensor(v).view(1, 3, 1, 1) for v in (self.cfg.roi_mean, self.cfg.roi_std))
        rgb = (self.roi_align(images, frame_boxes, self.roi_size) - mean) / std
        if self.cfg.shared_person_crop:    # 2x2 averages of the finer samples = the ROI-size crop, exactly
            guide = self.roi_align(person_prob, working_boxes, self.mask_size, self.cfg.sampling_ratio // 2)
            maps = torch.cat([F.avg_pool2d(guide, 2), self.roi_align(unet_features, working_boxes, self.roi_size)], 1)
            return torch.cat([rgb, maps], dim=1), guide
        maps = self.roi_align(torch.cat([person_prob, unet_features], dim=1), working_boxes, self.roi_size)
        return torch.cat([rgb, maps], dim=1), self.roi_align(person_prob, working_boxes, self.mask_size)

    def forward_rois(self, images: torch.Tensor, person_logits: torch.Tensor, unet_features: torch.Tensor,
                     frame_boxes: torch.Tensor, working_boxes: torch.Tensor) -> dict[str, torch.Tensor]:
        """Head outputs for ROIs as pixel boxes [N, 5] in the frame and in the working frame; auxiliary outputs
        only in training mode."""
        pooled, guide = self.crop_inputs(images, person_logits, unet_features, frame_boxes, working_boxes)
        return self.head(self.roi_encoder(pooled[:, :4]), pooled, guide, with_aux=self.training)

    @torch.no_grad()
    def person_probability(self, images: torch.Tensor) -> torch.Tensor:
        """The people-seg UNet's person probability [B, 1, H, W] at the frame size (binary-mask mode)."""
        was_training = self.training
        self.eval()
        try:
            probs = self(images, images.new_zeros((0, 5)))['binary_masks']
        finally:
            self.train(was_training)
        return working_to_frame(probs, tuple(images.shape[-2:]), self.cfg.working_size)

    @torch.no_grad()
    def predict_rois(self, images: torch.Tensor, boxes: Sequence[torch.Tensor],
                     scores: Sequence[torch.Tensor] | None = None, roi_chunk: int = 64) -> list[RoIMasks]:
        """ROI-space masks for absolute pixel boxes, one [Ni, 4] (x1, y1, x2, y2) tensor per image: the head's
        output before paste-back, a few kB per box whatever the frame size. Paste all of them with
        :meth:`RoIMasks.paste`, or a few at a time, in score order, with :meth:`RoIMasks.iter_paste`. The UNet runs
        once per batch, the head ``roi_chunk`` ROIs at a time.

        Returns:
            One :class:`~rhis_plugin.postprocess.RoIMasks` per image (target probabilities [Ni, mh, mw], the
            clipped boxes they were cropped at, the image size, the ``scores`` and each mask's ``quality``:
            :func:`~rhis_plugin.postprocess.mask_quality` against the UNet's person probability in the box).
        """
        check_images(images)
        if len(boxes) != images.shape[0]:
            raise ValueError(f'got {len(boxes)} box tensors for {images.shape[0]} images')
        if scores is not None and len(scores) != len(boxes):
            raise ValueError(f'got {len(scores)} score tensors for {len(boxes)} box tensors')
        if roi_chunk < 1:
            raise ValueError(f'roi_chunk must be >= 1, got {roi_chunk}')
        height, width = images.shape[-2:]
        rois = boxes_to_rois(boxes, height, width).to(images.device)
        bad = ~torch.isfinite(rois).all(dim=1)
        if bad.any():      # RoI Align would crash on them (rhis_plugin.deploy.valid_boxes drops them first)
            raise ValueError(f'boxes contain NaN or inf (rows {bad.nonzero().flatten()[:10].tolist()})')
        rois = clip_rois(rois)  # pasted where it was cropped
        was_training = self.training
        self.eval()
        try:
            person_logits, unet_features, scales = self.segment_people(images)
            frame_boxes, working_boxes = self.roi_boxes(rois, images, scales)
            target_probs = images.new_zeros((0, *self.mask_size))
            if len(rois):     # the UNet once, the head ``roi_chunk`` ROIs at a time (bounded memory)
                target_probs = torch.cat([
                    torch.softmax(self.forward_rois(images, person_logits, unet_features, frame_boxes[i:i + roi_chunk],
                                                    working_boxes[i:i + roi_chunk])['masks'], dim=1)[:, 1]
                    for i in range(0, len(rois), roi_chunk)])
            person = self.roi_align(torch.sigmoid(person_logits), working_boxes, self.mask_size)[:, 0]
            quality = mask_quality(target_probs, person)
        finally:
            self.train(was_training)
        counts = [len(b) for b in boxes]
        pixel_boxes = frame_boxes[:, 1:].split(counts)
        return [RoIMasks(probs, image_boxes, (height, width),
                         None if scores is None else torch.as_tensor(scores[i], device=images.device).float(),
                         image_quality)
                for i, (probs, image_boxes, image_quality)
                in enumerate(zip(target_probs.split(counts), pixel_boxes, quality.split(counts)))]

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
        return [roi_masks.paste(postprocess, image)
                for roi_masks, image in zip(self.predict_rois(images, boxes, scores), images)]
