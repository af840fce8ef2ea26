"""Training RHIS inside Ultralytics' own trainer, under a frozen detector or jointly with it.

:class:`RHISDetectionModel` is a ``DetectionModel`` that carries an RHIS head and adds its loss; :class:`RHISTrainer`
feeds it Ultralytics' segmentation data pipeline (batches carry instance masks) and validates boxes *and RHIS masks*
(:class:`~rhis_plugin.ultralytics.val.RHISSegmentationValidator`), so ``best.pt`` is chosen on mask fitness and every
``yolo train`` argument, the progress bar, ``results.csv``, plots, resume and callbacks work as they do for ``yolo``:

- ``frozen``: the detector's parameters stay as loaded (frozen again after Ultralytics' trainer unfreezes them, its
  BatchNorm statistics kept, its EMA copy synced); only the head trains, on GT boxes with jitter plus the detector's
  own person boxes that match a GT person (IoU >= 0.5).
- ``joint``: detector and head train together; the loss is the detection loss plus the RHIS loss.

``weights/best.pt`` and ``last.pt`` are plain detection checkpoints (``yolo`` loads them anywhere); the head is written
beside them: ``rhis.pth`` (best epoch, for ``add_rhis`` / ``rhis predict``) and ``rhis_last.pth`` (what ``resume``
needs besides ``last.pt``). ``rhis-yolo train`` is the command line.

    >>> from ultralytics import YOLO
    >>> YOLO('yolo11n.pt').train(trainer=rhis_trainer('frozen'), data='people-seg.yaml', epochs=10)  # doctest: +SKIP
"""
from __future__ import annotations

from collections import OrderedDict
from copy import copy, deepcopy
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torchvision.ops import box_iou
from ultralytics.models import yolo
from ultralytics.nn.tasks import DetectionModel
from ultralytics.utils.nms import non_max_suppression

from ..losses import RHISLoss, RHISLossConfig
from ..models import DEFAULT_PRESET, PeopleSegUNet, build_rhis, load_peopleseg_weights, load_rhis, save_rhis
from ..models.rhis import RHIS
from ..models.rois import boxes_to_rois, clip_rois, rois_to_pixels
from ..models.weights_origin import RANDOM, peopleseg_origin, refuse_random_peopleseg, set_peopleseg_origin
from ..training.roi_targets import build_roi_targets, jitter_boxes
from ..weights import STARTER, STARTER_PRESET, resolve_weights
from .offline import keep_offline
from .predict import person_class_ids
from .val import RHISSegmentationValidator

RESUME_HEAD = 'rhis_last.pth'
BEST_HEAD = 'rhis.pth'
MODES = ('frozen', 'joint')
IMAGENET = 'imagenet'

__all__ = ['RHISDetectionModel', 'RHISTrainer', 'rhis_trainer', 'build_training_head', 'plain_detector',
           'plain_detector_checkpoint', 'RESUME_HEAD', 'BEST_HEAD', 'MODES']


def build_training_head(weights: str | Path | None = None, preset: str | None = None,
                        peopleseg: str | Path | None = None, allow_random: bool = False) -> RHIS:
    """The head a training run starts from.

    Args:
        weights: ``'starter'`` (the bundled model; the default for its preset), ``'imagenet'`` (``preset`` with
            ImageNet encoders and a new decoder; the default for other presets), a checkpoint, or ``'random'``.
        preset: the architecture for ``'imagenet'`` / ``'random'``; must be the starter's with ``'starter'``.
        peopleseg: stage-1 people-seg UNet weights put into the head (a checkpoint or ``'starter'``).
        allow_random: accept a frozen people-seg UNet that was never loaded or trained.

    Returns:
        The RHIS model in training mode; a random frozen UNet raises ``RandomWeightsError`` unless asked for.
    """
    if weights is None:
        weights = STARTER if preset in (None, STARTER_PRESET) else IMAGENET
    weights = str(weights)
    if weights in (IMAGENET, RANDOM):
        model = build_rhis(preset or DEFAULT_PRESET, pretrained=weights == IMAGENET,
                           peopleseg_weights=None if peopleseg is not None else (RANDOM if weights == RANDOM else None))
    else:
        if weights == STARTER and preset not in (None, STARTER_PRESET):
            raise ValueError(f"the starter model is {STARTER_PRESET}, not {preset}: pass rhis=imagenet to start "
                             f"{preset} from ImageNet encoders, or a checkpoint of your own")
        model = load_rhis(resolve_weights(weights))
    if peopleseg is not None:
        load_peopleseg_weights(model.peopleseg, peopleseg)
    refuse_random_peopleseg(model, f'training from rhis={weights}', allow_random or weights == RANDOM)
    return model


class RHISDetectionModel(DetectionModel):
    """A detection model whose training loss also trains an RHIS head on the batch's person instances.

    Args:
        cfg, ch, nc, verbose: as for ``DetectionModel``.
        rhis: the head (default: ``rhis_preset`` built with ``peopleseg`` UNet weights).
        person_classes: class ids that get ROI targets (``None``: every class).
        max_rois_per_image: GT boxes sampled per image and step.
        detector_frozen: train the head only; the detector stays in eval mode and gives no loss.
        proposal_conf: with a frozen detector, its boxes above this confidence that match a GT person (IoU >= 0.5)
            train the head too (``None``: GT boxes only).
    """

    def __init__(self, cfg: Any = 'yolo11n.yaml', ch: int = 3, nc: int | None = None, verbose: bool = True,
                 rhis: RHIS | None = None, rhis_preset: str = DEFAULT_PRESET, peopleseg: str | None = None,
                 person_classes: list[int] | None = None, max_rois_per_image: int = 8,
                 detector_frozen: bool = False, proposal_conf: float | None = 0.25) -> None:
        super().__init__(cfg, ch=ch, nc=nc, verbose=verbose)
        self.rhis = rhis if rhis is not None else build_rhis(rhis_preset, peopleseg_weights=peopleseg)
        self.rhis_loss = RHISLoss()
        # Validation runs the model in eval mode, where RHIS returns only its masks: score those terms.
        self.rhis_eval_loss = RHISLoss(RHISLossConfig(bgfg=0, tnt=0, consistency=0, contour=0, distance=0))
        self.person_classes = person_classes
        self.max_rois_per_image = max_rois_per_image
        self.detector_frozen = detector_frozen
        self.proposal_conf = proposal_conf
        self.criterion = None        # built on the first detection loss (never, with a frozen detector)

    def train(self, mode: bool = True) -> 'RHISDetectionModel':
        """As ``nn.Module.train``; a frozen detector stays in eval mode (its BatchNorm statistics unchanged)."""
        super().train(mode)
        if mode and self.detector_frozen:
            for name, child in self.named_children():
                if not name.startswith('rhis'):
                    child.eval()
        return self

    def loss(self, batch: dict, preds: Any = None):
        rhis = self._rhis_loss(batch)
        batch_size = batch['img'].shape[0]
        if self.detector_frozen:
            return (rhis * batch_size).reshape(1), {'rhis_loss': rhis.detach()}
        loss, items = super().loss(batch, preds)
        # Ultralytics sums the returned vector and reports the dict: RHIS joins both.
        return torch.cat([loss.flatten(), (rhis * batch_size).reshape(1)]), {**items, 'rhis_loss': rhis.detach()}

    @torch.no_grad()
    def _detector_boxes(self, images: torch.Tensor) -> list[torch.Tensor]:
        """The frozen detector's person boxes per image (input pixels), after NMS."""
        preds = self.predict(images)
        head = self.model[-1]
        out = non_max_suppression(preds, self.proposal_conf, 0.7, classes=self.person_classes, max_det=100,
                                  end2end=bool(getattr(head, 'end2end', False)))
        return [o[:, :4].float() for o in out]

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
        proposals = None
        if self.detector_frozen and self.rhis.training and self.proposal_conf is not None:
            proposals = self._detector_boxes(images.float())
        boxes, index, instance_masks = [], [], []
        for b in range(images.shape[0]):
            rows = ((batch['batch_idx'] == b) & keep).nonzero().flatten()
            pick = torch.randperm(len(rows), device=rows.device)[:self.max_rois_per_image]
            boxes.append(jitter_boxes(xyxy[rows[pick]], (height, width)))
            index.append(pick)
            instance_masks.append(masks[rows])
            if proposals is not None and len(rows) and len(proposals[b]):
                iou, match = box_iou(proposals[b], xyxy[rows].float()).max(dim=1)
                matched = (iou >= 0.5).nonzero().flatten()[:self.max_rois_per_image]
                boxes[-1] = torch.cat([boxes[-1], proposals[b][matched].to(boxes[-1])])
                index[-1] = torch.cat([pick, match[matched].to(pick)])
        rois = boxes_to_rois(boxes, height, width).to(images.device)
        if len(rois) == 0:
            return sum(p.sum() for p in self.rhis.parameters() if p.requires_grad) * 0.0
        targets = build_roi_targets(instance_masks, rois_to_pixels(clip_rois(rois), height, width),
                                    torch.cat(index).to(images.device), self.rhis.mask_size)
        loss_fn = self.rhis_loss if self.rhis.training else self.rhis_eval_loss
        return sum(loss_fn(self.rhis(images.float(), rois), targets).values())


class RHISTrainer(yolo.segment.SegmentationTrainer):
    """Ultralytics trainer for :class:`RHISDetectionModel`: segmentation data (masks), box + RHIS mask validation.

    The class attributes say what to train; :func:`rhis_trainer` makes a subclass with them set (``model.train``
    takes a class).
    """

    rhis_mode = 'joint'
    rhis_weights: str | None = None
    rhis_preset: str | None = None
    rhis_peopleseg: str | None = None
    rhis_allow_random = False
    rhis_detector_boxes = True

    def __init__(self, cfg: Any = None, overrides: dict | None = None, _callbacks: dict | None = None) -> None:
        if self.rhis_mode not in MODES:
            raise ValueError(f'rhis_mode must be one of {", ".join(MODES)}, got {self.rhis_mode!r}')
        overrides = dict(overrides or {})
        overrides.update(mask_ratio=1, overlap_mask=False)    # full-resolution, one mask per instance
        keep_offline()
        super().__init__(**({'cfg': cfg} if cfg is not None else {}), overrides=overrides, _callbacks=_callbacks)
        self.add_callback('on_pretrain_routine_end', refreeze_frozen_stages)
        self.add_callback('on_train_batch_end', sync_frozen_ema)

    def get_model(self, cfg: Any = None, weights: Any = None, verbose: bool = True) -> RHISDetectionModel:
        head_file = self.wdir / RESUME_HEAD
        resuming = bool(self.args.resume) and head_file.is_file()   # last.pt holds the plain detector
        if resuming:
            head = load_rhis(head_file)
            self.rhis_mode = torch.load(head_file, map_location='cpu', weights_only=True)['meta'].get(
                'rhis_mode', self.rhis_mode)
        else:
            head = build_training_head(self.rhis_weights, self.rhis_preset, self.rhis_peopleseg,
                                       self.rhis_allow_random)
        frozen = self.rhis_mode == 'frozen'
        model = RHISDetectionModel(cfg, ch=self.data['channels'], nc=self.data['nc'], verbose=verbose, rhis=head,
                                   person_classes=person_class_ids(self.data['names']), detector_frozen=frozen,
                                   proposal_conf=0.25 if frozen and self.rhis_detector_boxes else None)
        model = self.set_model_names_for_load(model)
        if weights:
            model.load(weights)
        if resuming:
            set_peopleseg_origin(model.rhis, peopleseg_origin(head))
        return model

    def setup_model(self) -> dict | None:
        """Ultralytics' model setup; then RHIS's frozen parts are handed to its freeze loop as trainable (it would
        unfreeze them anyway, with one warning per parameter) and frozen again right after it
        (:func:`refreeze_frozen_stages`)."""
        ckpt = super().setup_model()
        for param in self.model.parameters():
            if param.dtype.is_floating_point:
                param.requires_grad_(True)
        return ckpt

    def get_validator(self) -> RHISSegmentationValidator:
        return RHISSegmentationValidator(self.test_loader, save_dir=self.save_dir, args=copy(self.args),
                                         _callbacks=self.callbacks)

    def save_model(self) -> bool:
        """Ultralytics' checkpoints, then: the head beside them (``rhis_last.pth`` every epoch, ``rhis.pth`` with the
        best fitness), and ``last.pt`` / ``best.pt`` rewritten as plain ``DetectionModel`` checkpoints, so ``yolo``
        and machines without this package load them (no AutoInstall of a package name that is not on the index)."""
        saved = super().save_model()
        head = _unwrap(self.ema.ema).rhis
        meta = dict(detector=str(self.args.model), epoch=self.epoch, rhis_mode=self.rhis_mode)
        save_rhis(head, self.wdir / RESUME_HEAD, **meta)
        if self.best_fitness == self.fitness:
            save_rhis(head, self.wdir / BEST_HEAD, **meta)
        for path in [self.last, self.best, *self.wdir.glob('epoch*.pt')]:
            if path.is_file():
                plain_detector_checkpoint(path)
        return saved

    def final_eval(self) -> None:
        """Ultralytics validates ``best.pt`` (a plain detector) at the end: with the best epoch's head (the last one
        when no epoch was validated)."""
        if not (self.wdir / BEST_HEAD).is_file():
            save_rhis(_unwrap(self.model).rhis, self.wdir / BEST_HEAD, detector=str(self.args.model),
                      rhis_mode=self.rhis_mode)
        self.validator.rhis_weights = self.wdir / BEST_HEAD
        super().final_eval()

    def _load_checkpoint_state(self, ckpt: dict) -> None:
        ema = ckpt.get('ema')
        if ema is not None and not hasattr(ema, 'rhis'):   # a plain EMA detector: the head comes from rhis_last.pth
            full = deepcopy(_unwrap(self.model))
            full.load_state_dict(ema.float().state_dict(), strict=False)
            ckpt = {**ckpt, 'ema': full}
        super()._load_checkpoint_state(ckpt)


def rhis_trainer(mode: str = 'frozen', weights: str | Path | None = None, preset: str | None = None,
                 peopleseg: str | Path | None = None, allow_random: bool = False,
                 detector_boxes: bool = True) -> type[RHISTrainer]:
    """The trainer class for ``model.train(trainer=...)``.

    Args:
        mode: ``'frozen'`` (the head alone under the loaded detector) or ``'joint'`` (detector and head).
        weights: the head to start from (see :func:`build_training_head`; default: the starter model).
        preset: the head's architecture when not starting from a checkpoint.
        peopleseg: stage-1 people-seg UNet weights (a checkpoint or ``'starter'``).
        allow_random: accept a frozen people-seg UNet that was never loaded or trained.
        detector_boxes: frozen mode: also train on the detector's own boxes that match a GT person.

    Returns:
        A :class:`RHISTrainer` subclass.

    Example:
        >>> rhis_trainer('joint', preset='rhis_lite1_80x60', peopleseg='work_dirs/unet_lite1.pth').rhis_mode
        'joint'
    """
    if mode not in MODES:
        raise ValueError(f'rhis_mode must be one of {", ".join(MODES)}, got {mode!r}')
    return type('RHISTrainer', (RHISTrainer,), {
        'rhis_mode': mode, 'rhis_weights': None if weights is None else str(weights), 'rhis_preset': preset,
        'rhis_peopleseg': None if peopleseg is None else str(peopleseg), 'rhis_allow_random': bool(allow_random),
        'rhis_detector_boxes': bool(detector_boxes)})


def _frozen_prefixes(model: RHISDetectionModel) -> tuple[str, ...]:
    """State-dict key prefixes of what the run keeps frozen: the people-seg UNet, and the detector in frozen mode."""
    prefixes = ('rhis.peopleseg.',) if model.rhis.peopleseg.frozen else ()
    if model.detector_frozen:
        prefixes += tuple(f'{name}.' for name, _ in model.named_children() if not name.startswith('rhis'))
    return prefixes


def refreeze_frozen_stages(trainer: Any) -> None:
    """Freezes again what RHIS keeps frozen (the people-seg UNet; the detector in frozen mode), once Ultralytics'
    trainer has set ``requires_grad=True`` on every float parameter it did not freeze itself (its freeze loop in
    ``_setup_train``). Frozen parameters then get no gradient, so the optimiser leaves them as they are."""
    model = _unwrap(trainer.model)
    for module in model.modules():
        if isinstance(module, PeopleSegUNet) and module.frozen:
            module.requires_grad_(False)
            module.eval()
    if model.detector_frozen:
        for name, child in model.named_children():
            if not name.startswith('rhis'):
                child.requires_grad_(False)
        model.train(model.training)


def sync_frozen_ema(trainer: Any) -> None:
    """Copies the frozen parts into the EMA model after each step: EMA's ``d * v + (1 - d) * v`` is not exactly ``v``
    in floating point, and ``best.pt`` comes from the EMA."""
    model = _unwrap(trainer.model)
    prefixes = _frozen_prefixes(model)
    if not prefixes or trainer.ema is None:
        return
    source = model.state_dict()
    with torch.no_grad():
        for key, value in trainer.ema.ema.state_dict().items():
            if key.startswith(prefixes):
                value.copy_(source[key])


def _unwrap(model: Any) -> Any:
    return model.module if hasattr(model, 'module') else model


_RHIS_ATTRIBUTES = ('person_classes', 'max_rois_per_image', 'detector_frozen', 'proposal_conf')


def plain_detector(model: DetectionModel) -> DetectionModel:
    """The detector of an :class:`RHISDetectionModel` as a plain ``DetectionModel`` (shared modules, no head)."""
    plain = DetectionModel.__new__(DetectionModel)
    plain.__dict__.update({k: v for k, v in model.__dict__.items() if k not in _RHIS_ATTRIBUTES})
    plain._modules = OrderedDict((k, v) for k, v in model._modules.items() if not k.startswith('rhis'))
    plain.task = 'detect'     # the run's arguments say 'segment' (its data has masks); the model is a detector
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
