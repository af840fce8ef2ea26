"""RHISRoIHead: the RHIS mask head as an mmdet RoIHead.

RHIS works on the image itself (its own people-seg UNet and RoI Align of the RGB crop), not on detector
features, so ``loss`` and ``predict`` take the batch images in RGB [0, 1] (see
:meth:`RHISDetector.images_rgb01 <rhis_plugin.mmdet.models.detectors.RHISDetector.images_rgb01>`) where a
standard RoIHead takes neck features. Boxes come from GT (with jitter), from the detector, or both.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from mmdet.models.roi_heads import BaseRoIHead
from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmdet.utils import InstanceList
from mmengine.structures import InstanceData

from rhis_plugin.losses import RHISLoss, RHISLossConfig
from rhis_plugin.models import build_rhis, load_rhis, load_roi_encoder_weights
from rhis_plugin.models.rois import boxes_to_rois, clip_rois, rois_to_pixels
from rhis_plugin.models.weights_origin import (ORIGIN_KEY, RANDOM, model_origin_record, origin_from_tensor,
                                               origin_to_tensor, peopleseg_origin, set_peopleseg_origin)
from rhis_plugin.weights import resolve_weights
from rhis_plugin.postprocess import PostprocessConfig, paste_batch
from rhis_plugin.training.roi_targets import build_roi_targets, jitter_boxes, match_proposals
from ...runner.checkpoint import load_peopleseg_checkpoint

__all__ = ['RHISRoIHead', 'postprocess_from_test_cfg']

_TRAIN_DEFAULTS = dict(jitter_scale=0.1, jitter_shift=0.06, max_rois_per_image=16, pos_iou_thr=0.5)


def postprocess_from_test_cfg(test_cfg: dict) -> PostprocessConfig:
    """The post-processing options of a ``test_cfg``: PostprocessConfig's fields, ``mask_thr_binary`` (mmdet's
    name) for its threshold."""
    options = dict(test_cfg)
    if 'threshold' in options:
        raise ValueError("test_cfg: set the mask threshold as mask_thr_binary (mmdet's name), not threshold")
    if 'mask_thr_binary' in options:
        options['threshold'] = options.pop('mask_thr_binary')
    fields = set(PostprocessConfig.__dataclass_fields__)
    unknown = sorted(set(options) - fields)
    if unknown:
        raise ValueError(f'test_cfg has unknown keys {unknown}; it takes mask_thr_binary and '
                         f'{sorted(fields - {"threshold"})}')
    return PostprocessConfig(**options)


def _tensor_boxes(boxes) -> torch.Tensor:
    return boxes.tensor if hasattr(boxes, 'tensor') else boxes


@MODELS.register_module()
class RHISRoIHead(BaseRoIHead):
    """The RHIS mask head as an mmdet RoIHead: masks for person boxes from the image itself.

    Args:
        preset: an RHIS preset (``rhis_plugin.models.list_presets()``); ``rhis_options`` override its fields.
        loss: :class:`~rhis_plugin.losses.RHISLossConfig` fields.
        person_labels: label indices that are people; ``None`` treats every label as a person.
        rhis_checkpoint: a whole model saved by ``rhis_plugin.models.save_rhis`` (weights of the preset's shape), or
            ``'starter'``: the bundled starter model (preset ``rhislightresnarrow_lite0_64x48``), UNet and head.
        peopleseg_checkpoint: weights for the (frozen) people-seg UNet: a PeopleSegmentor checkpoint
            (``configs/mmdet/peopleseg/``, stage 1, trained first), an smp ``Unet`` state dict, ``'starter'`` (the
            bundled starter model's UNet, presets with its UNet) or ``'random'`` (a random frozen UNet, on purpose).
            Unset, the UNet stays random and training warns.
        roi_encoder_weights: ImageNet weights of the ROI encoder (a file, or ``'timm'`` to download).
        train_cfg: ``jitter_scale``, ``jitter_shift``, ``max_rois_per_image``, ``pos_iou_thr`` (detector boxes
            with at least this IoU to a GT person train the head on that person).
        test_cfg: :class:`~rhis_plugin.postprocess.PostprocessConfig` fields, with mmdet's ``mask_thr_binary``
            as the name of its ``threshold``.
    """

    def __init__(self, preset: str = 'rhis_b0_64x48', rhis_options: dict | None = None, loss: dict | None = None,
                 person_labels: Sequence[int] | None = (0,), rhis_checkpoint: str | None = None,
                 peopleseg_checkpoint: str | None = None, roi_encoder_weights: str | None = None,
                 train_cfg: dict | None = None, test_cfg: dict | None = None, init_cfg: dict | None = None) -> None:
        super().__init__(train_cfg={**_TRAIN_DEFAULTS, **(train_cfg or {})}, test_cfg=dict(test_cfg or {}),
                         init_cfg=init_cfg)
        self.rhis = build_rhis(preset, **(rhis_options or {}))
        self.loss_fn = RHISLoss(RHISLossConfig(**(loss or {})))
        self.person_labels = None if person_labels is None else list(person_labels)
        self.rhis_checkpoint = rhis_checkpoint
        self.peopleseg_checkpoint = peopleseg_checkpoint
        self.roi_encoder_weights = roi_encoder_weights
        self.postprocess = postprocess_from_test_cfg(self.test_cfg)

    # BaseRoIHead's abstract hooks: RHIS has no separate bbox head, extractor or sampler.
    def init_bbox_head(self, *args, **kwargs) -> None:
        pass

    def init_mask_head(self, *args, **kwargs) -> None:
        pass

    def init_assigner_sampler(self, *args, **kwargs) -> None:
        pass

    @property
    def with_mask(self) -> bool:
        return True

    def init_weights(self) -> None:
        super().init_weights()
        if self.rhis_checkpoint:
            loaded = load_rhis(resolve_weights(self.rhis_checkpoint), aux_heads=self.rhis.cfg.aux_heads)
            self.rhis.load_state_dict(loaded.state_dict())
            set_peopleseg_origin(self.rhis, peopleseg_origin(loaded))
        if self.peopleseg_checkpoint == RANDOM:
            set_peopleseg_origin(self.rhis, RANDOM)
        elif self.peopleseg_checkpoint:
            load_peopleseg_checkpoint(self.rhis.peopleseg, str(resolve_weights(self.peopleseg_checkpoint)))
        if self.roi_encoder_weights:
            load_roi_encoder_weights(self.rhis.roi_encoder, self.roi_encoder_weights)

    def _save_to_state_dict(self, destination, prefix, keep_vars) -> None:
        """The people-seg UNet's origin travels in mmdet checkpoints as ``<head>.peopleseg_weights``."""
        super()._save_to_state_dict(destination, prefix, keep_vars)
        destination[prefix + ORIGIN_KEY] = origin_to_tensor(model_origin_record(self.rhis))

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs) -> None:
        """A whole-model checkpoint (``load_from``, ``mim test --checkpoint``) brings its UNet's origin record (a
        random UNet stays random). One written before the record: the UNet the config loads, else unknown."""
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)
        key = prefix + ORIGIN_KEY
        if key in unexpected_keys:
            unexpected_keys.remove(key)
        if key in state_dict:
            set_peopleseg_origin(self.rhis, origin_from_tensor(state_dict[key]))
        elif any(name.startswith(prefix + 'rhis.peopleseg.') for name in state_dict):
            origin = self.rhis_checkpoint or self.peopleseg_checkpoint
            set_peopleseg_origin(self.rhis, None if origin is None else str(origin))

    @staticmethod
    def check_images(images: object) -> None:
        """RHIS reads the image itself: a clear error when a detector hands it neck features instead."""
        if not (isinstance(images, torch.Tensor) and images.ndim == 4 and images.shape[1] == 3):
            raise TypeError(
                'RHISRoIHead takes the batch images (RGB [B, 3, H, W] in [0, 1]), not neck features: use it as the '
                "roi_head of RHISDetector (type='RHISDetector', any detector inside), or, for a two-stage detector "
                "such as Mask R-CNN, type='RHISTwoStageDetector' with roi_head=dict(type='RHISMaskRoIHead', "
                'rhis=dict(...)) in place of the mask head')

    @staticmethod
    def valid_sizes(batch_data_samples: SampleList) -> list[tuple[int, int]]:
        """Each image's (h, w) inside the padded batch: RHIS letterboxes each image to its working size by it."""
        return [tuple(int(v) for v in sample.metainfo['img_shape'][:2]) for sample in batch_data_samples]

    def is_person(self, labels: torch.Tensor) -> torch.Tensor:
        if self.person_labels is None:
            return torch.ones_like(labels, dtype=torch.bool)
        return torch.isin(labels, labels.new_tensor(self.person_labels))

    # ------------------------------------------------------------------ training
    def loss(self, images: torch.Tensor, batch_data_samples: SampleList,
             proposals_list: InstanceList | None = None) -> dict[str, torch.Tensor]:
        """RHIS losses on jittered GT person boxes, plus detector boxes matched to a GT person if given."""
        self.check_images(images)
        rois, targets = self.training_rois(images, batch_data_samples, proposals_list)
        if len(rois) == 0:   # no person in the batch: zero losses that keep every trainable weight in the graph
            zero = sum(p.sum() for p in self.rhis.parameters() if p.requires_grad) * 0.0
            return {'loss_rhis_ce': zero}
        return self.rhis_losses(self.rhis(images, rois, image_sizes=self.valid_sizes(batch_data_samples)), targets)

    def rhis_losses(self, outputs: dict[str, torch.Tensor], targets: torch.Tensor) -> dict[str, torch.Tensor]:
        losses = self.loss_fn(outputs, targets)
        return {name.replace('loss_', 'loss_rhis_', 1): value for name, value in losses.items()}

    def training_rois(self, images: torch.Tensor, batch_data_samples: SampleList,
                      proposals_list: InstanceList | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Normalised training ROIs [N, 5] (jittered GT person boxes, plus matched detector boxes) and their
        3-class targets at the head's mask size (``None`` when there is no ROI)."""
        cfg = self.train_cfg
        height, width = images.shape[-2:]
        boxes, target_index, instance_masks = [], [], []
        for i, sample in enumerate(batch_data_samples):
            gt = sample.gt_instances
            person = self.is_person(gt.labels)
            gt_boxes = _tensor_boxes(gt.bboxes)[person].float()
            masks = gt.masks[person.cpu().numpy()].to_tensor(dtype=torch.bool, device=images.device)
            masks = F.pad(masks, (0, width - masks.shape[-1], 0, height - masks.shape[-2]))
            instance_masks.append(masks)
            pick = torch.randperm(len(gt_boxes), device=gt_boxes.device)[:cfg['max_rois_per_image']]
            image_boxes = [jitter_boxes(gt_boxes[pick], (height, width), cfg['jitter_scale'], cfg['jitter_shift'])]
            image_index = [pick]
            if proposals_list is not None and len(gt_boxes):
                predicted = _tensor_boxes(proposals_list[i].bboxes).float()
                predicted = predicted[self.is_person(proposals_list[i].labels)]
                matched_boxes, matched_index = match_proposals(predicted, gt_boxes, cfg['max_rois_per_image'],
                                                               cfg['pos_iou_thr'])
                image_boxes.append(matched_boxes)
                image_index.append(matched_index)
            boxes.append(torch.cat(image_boxes))
            target_index.append(torch.cat(image_index))
        rois = boxes_to_rois(boxes, height, width).to(images.device)
        if len(rois) == 0:
            return rois, None
        targets = build_roi_targets(instance_masks, rois_to_pixels(clip_rois(rois), height, width),
                                    torch.cat(target_index).to(images.device), self.rhis.mask_size)
        return rois, targets

    # ------------------------------------------------------------------ inference
    def predict(self, images: torch.Tensor, results_list: InstanceList, batch_data_samples: SampleList,
                rescale: bool = True, score_by_mask: bool = False) -> InstanceList:
        """Adds ``masks`` (bool [N, H, W]) to each image's results; boxes come in input-image coordinates.

        With ``rescale`` the boxes and masks are mapped to the original image (``ori_shape``), as mmdet's
        CocoMetric expects; other classes than people get empty masks. Overlaps go to the higher detection score.
        ``score_by_mask`` (the oracle-box protocol) replaces each person's score by its mask's mean probability.

        Returns:
            One ``InstanceData`` per image with ``bboxes``, ``scores``, ``labels`` and ``masks``.
        """
        self.check_images(images)
        height, width = images.shape[-2:]
        person = [self.is_person(r.labels) for r in results_list]
        person_boxes = [_tensor_boxes(r.bboxes)[p].float() for r, p in zip(results_list, person)]
        rois = boxes_to_rois(person_boxes, height, width).to(images.device)
        probs = torch.zeros((0, *self.rhis.mask_size), device=images.device)
        if len(rois):
            logits = self.rhis(images, clip_rois(rois), image_sizes=self.valid_sizes(batch_data_samples))['masks']
            probs = torch.softmax(logits, dim=1)[:, 1]
        crop_boxes = rois_to_pixels(clip_rois(rois), height, width)[:, 1:].split([len(b) for b in person_boxes])
        sizes, guides, mapped = [], [], []
        for i, sample in enumerate(batch_data_samples):
            meta = sample.metainfo
            img_h, img_w = meta['img_shape'][:2]
            guide, size, boxes = images[i, :, :img_h, :img_w], (img_h, img_w), crop_boxes[i]
            if rescale:   # crop boxes (clipped to the input image) map to the original image like detector boxes
                boxes = boxes / boxes.new_tensor(meta['scale_factor'][:2]).repeat(2)
                size = tuple(meta['ori_shape'][:2])
                if self.postprocess.smoothing == 'guided':
                    guide = F.interpolate(guide[None], size=size, mode='bilinear', align_corners=False)[0]
            sizes.append(size)
            guides.append(guide)
            mapped.append(boxes)
        scores = [r.scores[p].float() for r, p in zip(results_list, person)]
        pasted = paste_batch(probs, mapped, sizes, self.postprocess, guides, scores)
        outputs = []
        for i, (results, sample) in enumerate(zip(results_list, batch_data_samples)):
            boxes = _tensor_boxes(results.bboxes).float()
            if rescale:
                boxes = boxes / boxes.new_tensor(sample.metainfo['scale_factor'][:2]).repeat(2)
            masks = torch.zeros((len(boxes), *sizes[i]), dtype=torch.bool, device=images.device)
            masks[person[i]] = pasted[i].masks
            new = InstanceData(metainfo=results.metainfo)
            new.bboxes = boxes
            new.scores = results.scores
            if score_by_mask:
                new.scores = results.scores.clone().float()
                new.scores[person[i]] = pasted[i].scores.to(new.scores.dtype)
            new.labels = results.labels
            new.masks = masks
            outputs.append(new)
        return outputs
