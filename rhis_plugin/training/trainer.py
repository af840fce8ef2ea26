"""A small framework-free training loop and the ROI-space evaluation, for tools, the demo and tests.

Full training runs go through mmengine (``rhis_plugin.mmdet``) or Ultralytics; this loop is the shortest path
from a COCO folder to a trained head: GT boxes with jitter as ROIs, AdamW, cosine schedule with warm-up.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

import torch
from torch.utils.data import DataLoader, Dataset, RandomSampler

from ..data.coco_dataset import collate_samples
from ..losses.distillation import mix_distillation
from ..losses.rhis_loss import RHISLoss
from ..models.rhis import RHIS
from ..models.rois import boxes_to_rois, clip_rois, rois_to_pixels
from ..data.augment import AugmentedDataset
from ..data.copy_paste import CopyPasteConfig, CopyPasteDataset
from .roi_targets import build_roi_targets, jitter_boxes, match_proposals

__all__ = ['TrainConfig', 'Distillation', 'add_train_arguments', 'resume_options', 'LearningCurve', 'optimise',
           'train_loader', 'train_rhis', 'lr_factor']


@dataclass(frozen=True)
class TrainConfig:
    iters: int = 300
    batch_size: int = 4
    lr: float = 2e-3
    weight_decay: float = 1e-4
    warmup_iters: int = 20
    jitter_scale: float = 0.1
    jitter_shift: float = 0.06
    max_rois_per_image: int = 8
    grad_clip: float = 1.0
    seed: int = 0
    log_every: int = 20
    num_workers: int = 0
    max_seconds: float | None = None     # stop early once this much time has passed (a time budget)
    copy_paste: float = 0.0              # chance per sample of people pasted from another image (data.copy_paste)
    augment: bool = False                # flips, scale and colour jitter of every sample (data.augment)
    amp: bool = False                    # mixed precision: float16 + loss scaling on CUDA, bfloat16 on the CPU
    checkpoint: str | None = None        # training state saved here every checkpoint_every iterations (resumable)
    checkpoint_every: int = 100


@dataclass
class Distillation:
    """A frozen teacher RHIS whose 3-class ROI masks the head learns besides the ground truth, on the same ROIs
    (Hinton et al. 2015, :func:`~rhis_plugin.losses.mix_distillation`): ``(1 - weight)`` x the RHIS losses +
    ``weight`` x T^2 KL at ``temperature`` (constant here; the mmdet path schedules it with DistillationScheduleHook).

    Args:
        teacher: a trained RHIS (e.g. a bigger preset); it is put in eval mode and never trained.
        weight: share of the distillation term, in [0, 1].
        temperature: softmax temperature T > 0.
    """
    teacher: RHIS
    weight: float = 0.5
    temperature: float = 4.0

    def __post_init__(self) -> None:
        if not 0 <= self.weight <= 1 or self.temperature <= 0:
            raise ValueError(f'distillation needs a weight in [0, 1] and a temperature > 0, got {self.weight} and '
                             f'{self.temperature}')
        self.teacher.eval().requires_grad_(False)

    def losses(self, losses: dict[str, torch.Tensor], student: dict[str, torch.Tensor], images: torch.Tensor,
               rois: torch.Tensor) -> dict[str, torch.Tensor]:
        """The student's loss terms mixed with the teacher's soft masks for the same ``images`` and ``rois``."""
        with torch.no_grad():
            teacher = self.teacher(images, rois)['masks']
        return mix_distillation(losses, student['masks'], teacher.float(), self.weight, self.temperature)


def add_train_arguments(parser: argparse.ArgumentParser, iters: int, lr: float) -> None:
    """The budget and run flags the framework-free training tools share: ``--iters --batch-size --lr --seed
    --threads --device --copy-paste --augment --amp --eval-at --resume --checkpoint-every`` (the tool turns them into a
    :class:`TrainConfig`, a :class:`LearningCurve` the ``--eval-at`` points, :func:`resume_options` the last two)."""
    parser.add_argument('--iters', type=int, default=iters)
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--lr', type=float, default=lr)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--threads', type=int, default=None, help='CPU threads (default: torch default)')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--copy-paste', type=float, default=0.0,
                        help='chance per training image of people pasted from another one (Simple Copy-Paste)')
    parser.add_argument('--augment', action='store_true',
                        help='flip, zoom (0.75-1.25x) and colour-jitter every training image '
                             '(rhis_plugin.data.augment)')
    parser.add_argument('--amp', action='store_true',
                        help='mixed precision (float16 with loss scaling on a GPU, bfloat16 on the CPU)')
    parser.add_argument('--eval-at', type=int, nargs='+', default=[], metavar='ITERS',
                        help='also score the --val folders at these iterations: the learning curve, in --metrics')
    parser.add_argument('--resume', action='store_true',
                        help='save the training state beside --out every --checkpoint-every iterations, and go on '
                             'from it when it is there (an interrupted run)')
    parser.add_argument('--checkpoint-every', type=int, default=100)


def resume_options(args: argparse.Namespace, out: str | None) -> dict:
    """``TrainConfig`` fields of ``--resume``: the training state lives at ``<out>.train_state``."""
    if not args.resume:
        return {}
    if not out:
        raise ValueError('--resume needs --out (the training state is kept beside it)')
    return {'checkpoint': f'{out}.train_state', 'checkpoint_every': args.checkpoint_every}


class LearningCurve:
    """Scores taken at chosen iterations, as an ``on_step`` callback of the trainers.

    ``score()`` evaluates the model as it is (and leaves it in training mode). With ``path`` (a tool's metrics
    JSON) the curve is written there as it grows, under ``'curve'``, and a resumed run starts from the points
    found there.

    Example:
        >>> curve = LearningCurve([2], lambda: {'iou': 0.5})
        >>> for step in (1, 2, 3):
        ...     curve(step)
        >>> curve.points
        {'2': {'iou': 0.5}}
    """

    def __init__(self, iterations: Iterable[int], score: Callable[[], dict], path: str | Path | None = None) -> None:
        self.iterations, self.score = set(iterations), score
        self.path = Path(path) if path else None
        self.points: dict[str, dict] = {}
        if self.path is not None and self.path.is_file():
            self.points = json.loads(self.path.read_text()).get('curve', {})

    def __call__(self, iterations: int) -> None:
        if iterations not in self.iterations or str(iterations) in self.points:
            return
        self.points[str(iterations)] = self.score()
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.name + '.tmp')
            tmp.write_text(json.dumps({'curve': self.points}, indent=2))
            os.replace(tmp, self.path)


def _batches(loader: DataLoader) -> Iterator[dict]:
    while True:
        yield from loader


def lr_factor(step: int, elapsed: float, cfg: TrainConfig) -> float:
    """Linear warm-up, then cosine decay to 2 % over the budget (iterations or ``max_seconds``, whichever is
    used up first), so a time budget gets a complete schedule too."""
    if step < cfg.warmup_iters:
        return (step + 1) / cfg.warmup_iters
    progress = (step - cfg.warmup_iters) / max(1, cfg.iters - cfg.warmup_iters)
    if cfg.max_seconds:
        progress = max(progress, elapsed / cfg.max_seconds)
    return 0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group['lr'] = lr


def optimise(params: list[torch.nn.Parameter], loader: DataLoader, loss_step: Callable[[dict], dict | None],
             cfg: TrainConfig, log: Callable[[str], None] = print,
             on_step: Callable[[int], None] | None = None,
             model: torch.nn.Module | None = None) -> list[dict[str, float]]:
    """The loop every framework-free trainer shares: AdamW, warm-up + cosine LR over the iteration or time
    budget, gradient clipping, running-mean loss logs, mixed precision with ``cfg.amp`` (autocast around
    ``loss_step``; float16 with loss scaling on CUDA, bfloat16 on the CPU). ``loss_step(batch)`` returns the loss
    terms of one batch (or ``None`` to skip it); ``on_step(iterations_done)`` runs after every iteration (e.g. an
    evaluation of a learning curve). With ``cfg.checkpoint`` (and the ``model`` the parameters belong to), the
    training state (model, optimiser, iteration, history, random state) is saved there every
    ``cfg.checkpoint_every`` iterations and the loop resumes from it when the file exists; it is removed when
    training completes. Returns the loss history, one dict per logged window (the last one when the time budget cuts
    training short included)."""
    if cfg.checkpoint is not None and model is None:
        raise ValueError('cfg.checkpoint needs the model whose parameters train (optimise(..., model=model))')
    optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    device_type = params[0].device.type if params else 'cpu'
    amp_dtype = torch.float16 if device_type == 'cuda' else torch.bfloat16
    scaler = torch.amp.GradScaler(device_type, enabled=cfg.amp and amp_dtype == torch.float16)
    history: list[dict[str, float]] = []
    first = 0
    if cfg.checkpoint is not None:
        first, history = _resume(Path(cfg.checkpoint), model, optimizer, log)
    running: dict[str, float] = {}
    steps_in_window = 0
    start = time.perf_counter()
    batches = _batches(loader)

    def flush(step: int) -> None:
        nonlocal running, steps_in_window
        entry = {'iter': step + 1, **{k: v / steps_in_window for k, v in running.items()}}
        history.append(entry)
        running, steps_in_window = {}, 0
        terms = ' '.join(f'{k.removeprefix("loss_")}={v:.3f}' for k, v in entry.items() if k != 'iter')
        log(f'iter {step + 1}/{cfg.iters} lr={optimizer.param_groups[0]["lr"]:.2e} {terms} '
            f'({time.perf_counter() - start:.0f}s)')

    step = first - 1
    for step in range(first, cfg.iters):
        if cfg.max_seconds is not None and time.perf_counter() - start > cfg.max_seconds:
            log(f'time budget of {cfg.max_seconds:.0f}s reached after {step} iterations')
            step -= 1
            break
        set_lr(optimizer, cfg.lr * lr_factor(step, time.perf_counter() - start, cfg))
        with torch.autocast(device_type, dtype=amp_dtype, enabled=cfg.amp):
            losses = loss_step(next(batches))
        if losses is not None:
            total = sum(losses.values())
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(total).backward()
            if cfg.grad_clip:
                scaler.unscale_(optimizer)
                torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
            scaler.step(optimizer)          # skips a step whose float16 gradients overflowed
            scaler.update()
            for name, value in {'loss': total, **losses}.items():
                running[name] = running.get(name, 0.0) + float(value.detach())
            steps_in_window += 1
            if (step + 1) % cfg.log_every == 0 or step + 1 == cfg.iters:
                flush(step)
        if on_step is not None:
            on_step(step + 1)
        if cfg.checkpoint is not None and (step + 1) % cfg.checkpoint_every == 0 and step + 1 < cfg.iters:
            _save_state(Path(cfg.checkpoint), model, optimizer, step + 1, history)
    if steps_in_window:
        flush(step)
    if cfg.checkpoint is not None:
        Path(cfg.checkpoint).unlink(missing_ok=True)     # complete: the trained model is the caller's to save
    return history


def _save_state(path: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer, iterations: int,
                history: list[dict[str, float]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + '.tmp')
    torch.save({'model': model.state_dict(), 'optimizer': optimizer.state_dict(), 'iterations': iterations,
                'history': history, 'rng': torch.get_rng_state()}, tmp)
    os.replace(tmp, path)          # a kill while saving leaves the previous state whole


def _resume(path: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
            log: Callable[[str], None]) -> tuple[int, list[dict[str, float]]]:
    """(first iteration, history) from a saved training state, or (0, []) without one."""
    if not path.is_file():
        return 0, []
    state = torch.load(path, map_location='cpu', weights_only=False)
    model.load_state_dict(state['model'])
    optimizer.load_state_dict(state['optimizer'])
    torch.set_rng_state(state['rng'])
    log(f'resuming from {path} at iteration {state["iterations"]}')
    return state['iterations'], state['history']


def train_loader(dataset: Dataset, cfg: TrainConfig) -> DataLoader:
    if cfg.copy_paste > 0:
        dataset = CopyPasteDataset(dataset, CopyPasteConfig(probability=cfg.copy_paste))
    if cfg.augment:
        dataset = AugmentedDataset(dataset)
    generator = torch.Generator().manual_seed(cfg.seed)
    return DataLoader(dataset, batch_size=cfg.batch_size, collate_fn=collate_samples,
                      sampler=RandomSampler(dataset, generator=generator), num_workers=cfg.num_workers,
                      drop_last=len(dataset) >= cfg.batch_size)


def train_rhis(model: RHIS, dataset: Dataset, cfg: TrainConfig = TrainConfig(), loss_fn: RHISLoss | None = None,
               device: str | torch.device = 'cpu', log: Callable[[str], None] = print,
               proposals_fn: Callable[[torch.Tensor], list[torch.Tensor]] | None = None,
               on_step: Callable[[int], None] | None = None,
               distillation: Distillation | None = None) -> list[dict[str, float]]:
    """Trains the head on GT boxes (jittered). Returns the loss history, one dict per logged step.

    ``loss_fn(outputs, targets)`` defaults to :class:`RHISLoss`; any loss over the model's outputs and the 3-class
    ROI targets (-1 where a crowd region is ignored) works (e.g. :class:`~rhis_plugin.losses.TargetMaskLoss` for binary baselines).
    ``proposals_fn(images)`` (images [B, 3, H, W] in [0, 1]) may return a detector's pixel boxes per image:
    those overlapping a GT person (IoU >= 0.5) become extra training ROIs for that person. ``on_step(iterations)``
    runs after every iteration; a callback that evaluates the model leaves it in training mode again.
    ``distillation`` adds a frozen teacher's soft masks on the same ROIs (:class:`Distillation`).
    """
    torch.manual_seed(cfg.seed)
    generator = torch.Generator().manual_seed(cfg.seed)
    loss_fn = loss_fn or RHISLoss()
    model.to(device).train()
    if distillation is not None:
        distillation.teacher.to(device)

    def loss_step(batch: dict) -> dict | None:
        images = batch['images'].to(device)
        size = tuple(images.shape[-2:])
        boxes, picked = [], []
        for image_boxes in batch['boxes']:
            keep = torch.randperm(len(image_boxes), generator=generator)[:cfg.max_rois_per_image]
            boxes.append(jitter_boxes(image_boxes[keep], size, cfg.jitter_scale, cfg.jitter_shift, generator))
            picked.append(keep)
        if proposals_fn is not None:
            with torch.no_grad():
                proposals = proposals_fn(images)
            for b, (image_proposals, gt_boxes) in enumerate(zip(proposals, batch['boxes'])):
                extra, index = match_proposals(image_proposals.cpu(), gt_boxes, cfg.max_rois_per_image)
                boxes[b], picked[b] = torch.cat([boxes[b], extra]), torch.cat([picked[b], index])
        rois = boxes_to_rois(boxes, *size).to(device)
        if len(rois) == 0:
            return None
        targets = build_roi_targets([m.to(device) for m in batch['masks']], rois_to_pixels(clip_rois(rois), *size),
                                    torch.cat(picked).to(device), model.mask_size, ignore_masks=batch['crowd'])
        outputs = model(images, rois)
        losses = loss_fn(outputs, targets)
        return losses if distillation is None else distillation.losses(losses, outputs, images, rois)

    params = [p for p in model.parameters() if p.requires_grad]
    return optimise(params, train_loader(dataset, cfg), loss_step, cfg, log, on_step, model=model)
