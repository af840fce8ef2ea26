"""Training RHIS with Ultralytics detectors: the head alone under a frozen detector, or jointly with it.

Joint training runs inside Ultralytics' own loop: :class:`RHISDetectionModel` is a ``DetectionModel`` that carries
an RHIS head and adds its loss; :class:`RHISJointTrainer` feeds it Ultralytics' segmentation data pipeline (so
batches carry instance masks) and validates boxes with the detection validator. Use it through the usual API::

    YOLO('yolo11n.yaml').train(trainer=RHISJointTrainer, data='data.yaml', epochs=100, imgsz=640)

The trained RHIS head is also written on its own as ``<save_dir>/weights/rhis.pth`` (for ``add_rhis``).
"""
from __future__ import annotations

from copy import copy
from typing import Any, Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset
from ultralytics.models import yolo
from ultralytics.nn.tasks import DetectionModel

from ..losses import RHISLoss, RHISLossConfig
from ..models import PeopleSegUNet, build_rhis, save_rhis
from ..models.rhis import RHIS
from ..models.rois import boxes_to_rois, clip_rois, rois_to_pixels
from ..training import TrainConfig, train_rhis
from ..training.roi_targets import build_roi_targets, jitter_boxes
from .predict import person_class_ids

__all__ = ['bgr_uint8', 'detector_proposals', 'train_head_frozen', 'RHISDetectionModel', 'RHISJointTrainer',
           'refreeze_frozen_stages', 'rhis_joint_trainer']


def bgr_uint8(image: torch.Tensor) -> np.ndarray:
    """An RGB [3, H, W] tensor in [0, 1] as the BGR uint8 array Ultralytics predicts on."""
    return np.ascontiguousarray((image.permute(1, 2, 0).cpu().numpy()[..., ::-1] * 255).round().astype(np.uint8))


def detector_proposals(detector: Any, classes: Sequence[int] | None, conf: float = 0.25,
                       imgsz: int = 640) -> Callable[[torch.Tensor], list[torch.Tensor]]:
    """A ``proposals_fn`` for :func:`~rhis_plugin.training.train_rhis`: the frozen detector's boxes."""
    def proposals(images: torch.Tensor) -> list[torch.Tensor]:
        results = detector.predict([bgr_uint8(im) for im in images], conf=conf, classes=classes, imgsz=imgsz,
                                   verbose=False)
        return [r.boxes.xyxy.float().cpu() for r in results]
    return proposals


def train_head_frozen(detector: Any, dataset: Dataset, preset: str = 'rhis_b0_64x48',
                      cfg: TrainConfig = TrainConfig(), detector_boxes: bool = True, detector_conf: float = 0.25,
                      imgsz: int = 640, device: str = 'cpu', model: RHIS | None = None) -> RHIS:
    """Trains an RHIS head on ``dataset`` while ``detector`` (YOLO/RT-DETR) stays frozen (it is only run)."""
    model = model or build_rhis(preset)
    proposals = None
    if detector_boxes:
        proposals = detector_proposals(detector, person_class_ids(detector.names), detector_conf, imgsz)
    train_rhis(model, dataset, cfg, device=device, proposals_fn=proposals)
    return model


class RHISDetectionModel(DetectionModel):
    """A detection model whose training loss also trains an RHIS head on the batch's person instances."""

    def __init__(self, cfg: Any = 'yolo11n.yaml', ch: int = 3, nc: int | None = None, verbose: bool = True,
                 rhis_preset: str = 'rhis_b0_64x48', person_classes: list[int] | None = None,
                 max_rois_per_image: int = 8) -> None:
        super().__init__(cfg, ch=ch, nc=nc, verbose=verbose)
        self.rhis = build_rhis(rhis_preset)
        self.rhis_loss = RHISLoss()
        # Validation runs the model in eval mode, where RHIS returns only its masks: score those terms.
        self.rhis_eval_loss = RHISLoss(RHISLossConfig(bgfg=0, tnt=0, consistency=0, contour=0, distance=0))
        self.person_classes = person_classes
        self.max_rois_per_image = max_rois_per_image

    def loss(self, batch: dict, preds: Any = None):
        loss, items = super().loss(batch, preds)
        rhis = self._rhis_loss(batch)
        batch_size = batch['img'].shape[0]
        # Ultralytics sums the returned vector and reports the dict: RHIS joins both.
        return torch.cat([loss.flatten(), (rhis * batch_size).reshape(1)]), {**items, 'rhis_loss': rhis.detach()}

    def _rhis_loss(self, batch: dict) -> torch.Tensor:
        images = batch['img']
        height, width = images.shape[-2:]
        cls = batch['cls'].flatten().long()
        keep = torch.ones_like(cls, dtype=torch.bool) if self.person_classes is None else \
            torch.isin(cls, torch.tensor(self.person_classes, device=cls.device))
        xywh = batch['bboxes'] * images.new_tensor([width, height, width, height])
        xyxy = torch.cat([xywh[:, :2] - xywh[:, 2:] / 2, xywh[:, :2] + xywh[:, 2:] / 2], dim=1)
        masks = batch['masks'].float()
        if masks.shape[-2:] != (height, width):
            masks = F.interpolate(masks[None], size=(height, width), mode='bilinear', align_corners=False)[0]
        masks = masks > 0.5
        boxes, index, instance_masks = [], [], []
        for b in range(images.shape[0]):
            rows = ((batch['batch_idx'] == b) & keep).nonzero().flatten()
            pick = torch.randperm(len(rows), device=rows.device)[:self.max_rois_per_image]
            boxes.append(jitter_boxes(xyxy[rows[pick]], (height, width)))
            index.append(pick)
            instance_masks.append(masks[rows])
        rois = boxes_to_rois(boxes, height, width).to(images.device)
        if len(rois) == 0:
            return sum(p.sum() for p in self.rhis.parameters() if p.requires_grad) * 0.0
        targets = build_roi_targets(instance_masks, rois_to_pixels(clip_rois(rois), height, width),
                                    torch.cat(index).to(images.device), self.rhis.mask_size)
        loss_fn = self.rhis_loss if self.rhis.training else self.rhis_eval_loss
        return sum(loss_fn(self.rhis(images.float(), rois), targets).values())


class RHISJointTrainer(yolo.segment.SegmentationTrainer):
    """Ultralytics trainer for :class:`RHISDetectionModel`: segmentation data (masks), detection validation."""

    rhis_preset = 'rhis_b0_64x48'

    def __init__(self, cfg: Any = None, overrides: dict | None = None, _callbacks: dict | None = None) -> None:
        overrides = dict(overrides or {})
        overrides.update(mask_ratio=1, overlap_mask=False)    # full-resolution, one mask per instance
        super().__init__(**({'cfg': cfg} if cfg is not None else {}), overrides=overrides, _callbacks=_callbacks)
        self.add_callback('on_pretrain_routine_end', refreeze_frozen_stages)
        self.add_callback('on_train_end', _save_rhis_head)

    def get_model(self, cfg: Any = None, weights: Any = None, verbose: bool = True) -> RHISDetectionModel:
        model = RHISDetectionModel(cfg, ch=self.data['channels'], nc=self.data['nc'], verbose=verbose,
                                   rhis_preset=self.rhis_preset, person_classes=person_class_ids(self.data['names']))
        model = self.set_model_names_for_load(model)
        if weights:
            model.load(weights)
        return model

    def get_validator(self):
        return yolo.detect.DetectionValidator(self.test_loader, save_dir=self.save_dir, args=copy(self.args),
                                              _callbacks=self.callbacks)


def refreeze_frozen_stages(trainer: Any) -> None:
    """Freezes again what RHIS keeps frozen (the people-seg UNet), once Ultralytics' trainer has set
    ``requires_grad=True`` on every float parameter it did not freeze itself (its freeze loop in ``_setup_train``).
    Frozen parameters then get no gradient, so the optimiser and EMA leave them as they are."""
    model = trainer.model.module if hasattr(trainer.model, 'module') else trainer.model
    for module in model.modules():
        if isinstance(module, PeopleSegUNet) and module.frozen:
            module.requires_grad_(False)
            module.eval()


def _save_rhis_head(trainer: RHISJointTrainer) -> None:
    model = trainer.model.module if hasattr(trainer.model, 'module') else trainer.model
    save_rhis(model.rhis, trainer.wdir / 'rhis.pth', detector=str(trainer.args.model))


def rhis_joint_trainer(rhis_preset: str) -> type[RHISJointTrainer]:
    """The trainer class for a given RHIS preset (``model.train(trainer=...)`` takes a class)."""
    return type('RHISJointTrainer', (RHISJointTrainer,), {'rhis_preset': rhis_preset})
