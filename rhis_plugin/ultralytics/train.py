"""Training RHIS with Ultralytics detectors: the head alone under a frozen detector, or jointly with it.

Joint training runs inside Ultralytics' own loop: :class:`RHISDetectionModel` is a ``DetectionModel`` that carries
an RHIS head and adds its loss; :class:`RHISJointTrainer` feeds it Ultralytics' segmentation data pipeline (so
batches carry instance masks) and validates boxes with the detection validator. Use it through the usual API::

    YOLO('yolo11n.yaml').train(trainer=RHISJointTrainer, data='data.yaml', epochs=100, imgsz=640)

``weights/best.pt`` and ``last.pt`` are plain detection checkpoints (``yolo`` loads them anywhere); the head is written
beside them: ``rhis.pth`` (best epoch, for ``add_rhis`` / ``rhis predict``) and ``rhis_last.pth`` (what ``resume``
needs besides ``last.pt``).
"""
from __future__ import annotations

from collections import OrderedDict
from copy import copy, deepcopy
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset
from ultralytics.models import yolo
from ultralytics.nn.tasks import DetectionModel

from ..losses import RHISLoss, RHISLossConfig
from ..models import DEFAULT_PRESET, PeopleSegUNet, build_rhis, load_rhis, save_rhis
from ..models.weights_origin import peopleseg_origin, set_peopleseg_origin
from ..models.rhis import RHIS
from ..models.rois import boxes_to_rois, clip_rois, rois_to_pixels
from ..training import TrainConfig, train_rhis
from ..training.roi_targets import build_roi_targets, jitter_boxes
from .predict import person_class_ids

RESUME_HEAD = 'rhis_last.pth'

__all__ = ['plain_detector', 'plain_detector_checkpoint', 'RESUME_HEAD', 'bgr_uint8', 'detector_proposals', 'train_head_frozen', 'RHISDetectionModel', 'RHISJointTrainer',
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


def train_head_frozen(detector: Any, dataset: Dataset, preset: str = DEFAULT_PRESET,
                      cfg: TrainConfig = TrainConfig(), detector_boxes: bool = True, detector_conf: float = 0.25,
                      imgsz: int = 640, device: str = 'cpu', model: RHIS | None = None,
                      peopleseg: str | None = None) -> RHIS:
    """Trains an RHIS head on ``dataset`` while ``detector`` (YOLO/RT-DETR) stays frozen (it is only run).

    ``peopleseg``: stage-1 UNet weights for a model built here (a checkpoint, ``'starter'``, ``'random'``)."""
    model = model or build_rhis(preset, peopleseg_weights=peopleseg)
    proposals = None
    if detector_boxes:
        proposals = detector_proposals(detector, person_class_ids(detector.names), detector_conf, imgsz)
    train_rhis(model, dataset, cfg, device=device, proposals_fn=proposals)
    return model


class RHISDetectionModel(DetectionModel):
    """A detection model whose training loss also trains an RHIS head on the batch's person instances."""

    def __init__(self, cfg: Any = 'yolo11n.yaml', ch: int = 3, nc: int | None = None, verbose: bool = True,
                 rhis_preset: str = DEFAULT_PRESET, person_classes: list[int] | None = None,
                 max_rois_per_image: int = 8, peopleseg: str | None = None) -> None:
        super().__init__(cfg, ch=ch, nc=nc, verbose=verbose)
        # peopleseg: stage-1 UNet weights (a checkpoint, 'starter', or 'random' on purpose); None warns on first use.
        self.rhis = build_rhis(rhis_preset, peopleseg_weights=peopleseg)
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

    rhis_preset = DEFAULT_PRESET
    rhis_peopleseg: str | None = None

    def __init__(self, cfg: Any = None, overrides: dict | None = None, _callbacks: dict | None = None) -> None:
        overrides = dict(overrides or {})
        overrides.update(mask_ratio=1, overlap_mask=False)    # full-resolution, one mask per instance
        super().__init__(**({'cfg': cfg} if cfg is not None else {}), overrides=overrides, _callbacks=_callbacks)
        self.add_callback('on_pretrain_routine_end', refreeze_frozen_stages)
        self.add_callback('on_train_end', _save_rhis_head)

    def get_model(self, cfg: Any = None, weights: Any = None, verbose: bool = True) -> RHISDetectionModel:
        model = RHISDetectionModel(cfg, ch=self.data['channels'], nc=self.data['nc'], verbose=verbose,
                                   rhis_preset=self.rhis_preset, person_classes=person_class_ids(self.data['names']),
                                   peopleseg=self.rhis_peopleseg)
        model = self.set_model_names_for_load(model)
        if weights:
            model.load(weights)
        head = self.wdir / RESUME_HEAD
        if self.args.resume and head.is_file():      # last.pt holds the plain detector; the head is beside it
            saved = load_rhis(head)
            model.rhis.load_state_dict(saved.state_dict())
            set_peopleseg_origin(model.rhis, peopleseg_origin(saved))
        return model

    def save_model(self) -> bool:
        """Ultralytics' checkpoints, then: the head beside them (``rhis_last.pth`` every epoch, ``rhis.pth`` with the
        best fitness), and ``last.pt`` / ``best.pt`` rewritten as plain ``DetectionModel`` checkpoints, so ``yolo``
        and machines without this package load them (no AutoInstall of a package name that is not on the index)."""
        saved = super().save_model()
        head = _unwrap(self.ema.ema).rhis
        save_rhis(head, self.wdir / RESUME_HEAD, detector=str(self.args.model), epoch=self.epoch)
        if self.best_fitness == self.fitness:
            save_rhis(head, self.wdir / 'rhis.pth', detector=str(self.args.model), epoch=self.epoch)
        for path in [self.last, self.best, *self.wdir.glob('epoch*.pt')]:
            if path.is_file():
                plain_detector_checkpoint(path)
        return saved

    def _load_checkpoint_state(self, ckpt: dict) -> None:
        ema = ckpt.get('ema')
        if ema is not None and not hasattr(ema, 'rhis'):   # a plain EMA detector: the head comes from rhis_last.pth
            full = deepcopy(_unwrap(self.model))
            full.load_state_dict(ema.float().state_dict(), strict=False)
            ckpt = {**ckpt, 'ema': full}
        super()._load_checkpoint_state(ckpt)

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


def _unwrap(model: Any) -> Any:
    return model.module if hasattr(model, 'module') else model


def plain_detector(model: DetectionModel) -> DetectionModel:
    """The detector of an :class:`RHISDetectionModel` as a plain ``DetectionModel`` (shared modules, no head)."""
    plain = DetectionModel.__new__(DetectionModel)
    plain.__dict__.update({k: v for k, v in model.__dict__.items() if k not in ('person_classes', 'max_rois_per_image')})
    plain._modules = OrderedDict((k, v) for k, v in model._modules.items() if not k.startswith('rhis'))
    return plain


def plain_detector_checkpoint(path: Path) -> None:
    """Rewrites an Ultralytics checkpoint of an :class:`RHISDetectionModel` with plain ``DetectionModel`` objects."""
    ckpt = torch.load(path, map_location='cpu', weights_only=False)
    changed = False
    for key in ('model', 'ema'):
        if isinstance(ckpt.get(key), RHISDetectionModel):
            ckpt[key], changed = plain_detector(ckpt[key]), True
    if changed:
        torch.save(ckpt, path)


def _save_rhis_head(trainer: RHISJointTrainer) -> None:
    """At the end: ``rhis.pth`` is the head of the best epoch (written by ``save_model``), or the last one."""
    if not (trainer.wdir / 'rhis.pth').is_file():
        save_rhis(_unwrap(trainer.model).rhis, trainer.wdir / 'rhis.pth', detector=str(trainer.args.model))


def rhis_joint_trainer(rhis_preset: str, peopleseg: str | None = None) -> type[RHISJointTrainer]:
    """The trainer class for a given RHIS preset and stage-1 UNet weights (``model.train(trainer=...)`` takes a
    class)."""
    return type('RHISJointTrainer', (RHISJointTrainer,), {'rhis_preset': rhis_preset, 'rhis_peopleseg': peopleseg})
