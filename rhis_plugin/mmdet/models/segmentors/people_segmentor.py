"""PeopleSegmentor: RHIS's first stage, the binary person/background UNet, as a trainable mmengine model.

It trains the :class:`~rhis_plugin.models.PeopleSegUNet` whose weights RHIS then loads frozen
(``RHISRoIHead(peopleseg_checkpoint=...)``). Data come from COCO-format instance annotations through
:class:`~rhis_plugin.mmdet.datasets.transforms.PeopleSegTargets` (target = union of non-crowd person masks) and
predictions are scored by :class:`~rhis_plugin.mmdet.evaluation.BinarySegMetric`.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from mmdet.registry import MODELS
from mmengine.model import BaseModel
from mmengine.structures import PixelData

from rhis_plugin.losses.segmentation import PeopleSegLoss, PeopleSegLossConfig
from rhis_plugin.models.guided_filter import LearnableGuidedFilter
from rhis_plugin.models.peopleseg_unet import PeopleSegUNet
from rhis_plugin.postprocess.refine import fast_guided_filter

from ...runner.checkpoint import load_peopleseg_checkpoint

__all__ = ['PeopleSegmentor']

REFINE_TYPES = ('guided', 'learnable')


@MODELS.register_module()
class PeopleSegmentor(BaseModel):
    """The people-seg UNet (RHIS stage 1) as a trainable mmengine model: person/background per pixel.

    Args:
        encoder: people-seg UNet encoder (``rhis_plugin.models.PEOPLESEG_ENCODERS`` or any smp encoder name).
        decoder_channels: UNet decoder widths.
        encoder_weights: smp pretrained encoder weights (``'imagenet'`` downloads; ``None`` random init).
        checkpoint: UNet weights to start from (see :func:`~rhis_plugin.mmdet.runner.load_peopleseg_checkpoint`).
        loss: :class:`~rhis_plugin.losses.PeopleSegLossConfig` fields.
        refine: ``None``; ``dict(type='guided', radius=4, eps=1e-3, subsample=1)`` (post-processing only); or
            ``dict(type='learnable', ...)`` (a :class:`~rhis_plugin.models.LearnableGuidedFilter` trained jointly
            with BCE on its output; arguments as that class takes).
        trainable_encoder_stages: ``None`` trains the whole encoder; ``k`` trains only its last ``k`` stages (the
            others take no gradient and keep their BatchNorm statistics); ProgressiveUnfreezeHook raises it.
    """

    def __init__(self, encoder: str = 'timm-efficientnet-b0', decoder_channels: tuple[int, ...] = (256, 128, 64, 32, 16),
                 encoder_weights: str | None = None, checkpoint: str | None = None, loss: dict | None = None,
                 refine: dict | None = None, trainable_encoder_stages: int | None = None,
                 data_preprocessor: dict | None = None, init_cfg: dict | None = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.unet = PeopleSegUNet(encoder, encoder_weights=encoder_weights, frozen=False,
                                  decoder_channels=tuple(decoder_channels))
        self.checkpoint = checkpoint
        self.loss_fn = PeopleSegLoss(PeopleSegLossConfig(**(loss or {})))
        refine = dict(refine or {})
        kind = refine.pop('type', None)
        if kind is not None and kind not in REFINE_TYPES:
            raise ValueError(f'refine type must be one of {REFINE_TYPES}, got {kind!r}')
        self.refine_type = kind
        self.refine_options = refine
        self.refine = LearnableGuidedFilter(**refine) if kind == 'learnable' else None
        self.trainable_encoder_stages = None
        self.set_trainable_encoder_stages(trainable_encoder_stages)

    def init_weights(self) -> None:
        super().init_weights()
        if self.checkpoint:
            load_peopleseg_checkpoint(self.unet, self.checkpoint)

    # ------------------------------------------------------------------ encoder freezing
    def set_trainable_encoder_stages(self, count: int | None) -> None:
        """Only the last ``count`` encoder stages train (``None``: all)."""
        stages = self.unet.encoder_stages()
        if count is not None and not 0 <= count <= len(stages):
            raise ValueError(f'trainable_encoder_stages must be in [0, {len(stages)}], got {count}')
        self.trainable_encoder_stages = count
        frozen = 0 if count is None else len(stages) - count
        for i, stage in enumerate(stages):
            stage.requires_grad_(i >= frozen)
        self.train(self.training)

    def train(self, mode: bool = True) -> 'PeopleSegmentor':
        super().train(mode)
        if mode and self.trainable_encoder_stages is not None:
            stages = self.unet.encoder_stages()
            for stage in stages[:len(stages) - self.trainable_encoder_stages]:
                stage.eval()
        return self

    # ------------------------------------------------------------------ forward
    def forward(self, inputs: torch.Tensor, data_samples: list | None = None, mode: str = 'tensor'):
        """``inputs`` are RGB in [0, 1] (DetDataPreprocessor with mean 0, std 255, bgr_to_rgb)."""
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.unet(inputs)[0]
        raise ValueError(f"mode must be 'loss', 'predict' or 'tensor', got {mode!r}")

    def targets(self, inputs: torch.Tensor, data_samples: list) -> dict[str, torch.Tensor]:
        """Batch targets padded to the input size: ``target``, ``valid`` (inside each image) and, when the
        pipeline made it, ``signed_distance``."""
        height, width = inputs.shape[-2:]
        target = inputs.new_zeros((len(data_samples), 1, height, width))
        valid = torch.zeros_like(target)
        distance = None
        for i, sample in enumerate(data_samples):
            if 'gt_sem_seg' not in sample:
                raise KeyError('data samples carry no gt_sem_seg: add PeopleSegTargets and PackPeopleSegInputs to '
                               'the training pipeline')
            seg = sample.gt_sem_seg
            h, w = seg.sem_seg.shape[-2:]
            target[i, :, :h, :w] = seg.sem_seg.to(inputs)
            valid[i, :, :h, :w] = 1
            if 'signed_distance' in seg:
                if distance is None:
                    distance = inputs.new_zeros(target.shape)
                distance[i, :, :h, :w] = seg.signed_distance.to(inputs)
        out = {'target': target, 'valid': valid}
        if distance is not None:
            out['signed_distance'] = distance
        return out

    def loss(self, inputs: torch.Tensor, data_samples: list) -> dict[str, torch.Tensor]:
        logits, _ = self.unet(inputs)
        gt = self.targets(inputs, data_samples)
        losses = self.loss_fn(logits, gt['target'], gt['valid'], gt.get('signed_distance'))
        losses.update(self.refine_losses(inputs, logits, gt))
        return losses

    def refine_losses(self, inputs: torch.Tensor, logits: torch.Tensor,
                      gt: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """BCE of the learnable guided filter's output (nothing without one)."""
        if self.refine is None:
            return {}
        refined = self.refine(inputs, torch.sigmoid(logits)).clamp(1e-6, 1 - 1e-6)
        bce = F.binary_cross_entropy(refined, gt['target'], reduction='none')
        return {'loss_refine_bce': (bce * gt['valid']).sum() / gt['valid'].sum().clamp(min=1.0)}

    @torch.no_grad()
    def probabilities(self, inputs: torch.Tensor) -> torch.Tensor:
        """Person probability [B, 1, H, W], refined when ``refine`` is set."""
        prob = torch.sigmoid(self.unet(inputs)[0])
        if self.refine_type == 'learnable':
            prob = self.refine(inputs, prob)
        elif self.refine_type == 'guided':
            prob = fast_guided_filter(inputs, prob, **self.refine_options).clamp(0, 1)
        return prob

    def predict(self, inputs: torch.Tensor, data_samples: list) -> list:
        """Adds ``pred_sem_seg.sem_seg``: person probability [1, H, W] at each image's original size."""
        prob = self.probabilities(inputs)
        for i, sample in enumerate(data_samples):
            img_h, img_w = sample.metainfo['img_shape'][:2]
            ori_h, ori_w = sample.metainfo['ori_shape'][:2]
            image_prob = prob[i:i + 1, :, :img_h, :img_w]
            if (img_h, img_w) != (ori_h, ori_w):
                image_prob = F.interpolate(image_prob, size=(ori_h, ori_w), mode='bilinear', align_corners=False)
            sample.pred_sem_seg = PixelData(sem_seg=image_prob[0])
        return data_samples
