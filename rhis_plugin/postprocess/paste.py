"""Paste ROI-space mask probabilities back into the image.

The mask cell (i, j) of a box (x1, y1, x2, y2) is centred at ``x1 + (j + 0.5) * (x2 - x1) / mw`` (and likewise
in y), the same grid RoI Align (aligned=True) samples, so pasting and re-cropping round-trips. Image pixel
(r, c) is centred at (c + 0.5, r + 0.5) and belongs to the box when its centre lies inside it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .refine import dilate, gaussian_smooth, guided_filter

__all__ = ['PostprocessConfig', 'PastedMasks', 'RoIMasks', 'clip_to_box', 'paste_masks', 'paste_batch']


@dataclass(frozen=True)
class PostprocessConfig:
    """Options for turning ROI probabilities into image masks.

    Args:
        threshold: probability above which a pixel belongs to the instance.
        dilation: grow every instance mask by this many pixels.
        smoothing: ``None``, ``'guided'`` (guided filter on the image: snaps edges to image edges) or
            ``'gaussian'`` (blur of the probability before thresholding: rounds jagged edges).
        smooth_radius: guided-filter radius, or Gaussian sigma, in image pixels.
        smooth_eps: guided-filter regularisation for images in [0, 1].
        exclusive: each pixel goes to at most one instance: the one with the highest detection score (pasted
            first; later instances get only unowned pixels), and among equal scores the one with the highest
            probability there.
        min_quality: masks whose quality score (:func:`mask_quality`) is below this are not drawn on overlays
            (``rhis predict`` / ``rhis demo``): a box with (almost) no person in it. They stay in the results, with
            their low score.
    """
    threshold: float = 0.5
    dilation: int = 0
    smoothing: str | None = None
    smooth_radius: int = 4
    smooth_eps: float = 1e-3
    exclusive: bool = True
    min_quality: float = 0.1

    def __post_init__(self) -> None:
        if not 0.0 <= self.threshold < 1.0:
            raise ValueError(f'threshold must be in [0, 1), got {self.threshold}')
        if self.dilation < 0:
            raise ValueError(f'dilation must be >= 0 pixels, got {self.dilation}')
        if not 0.0 <= self.min_quality <= 1.0:
            raise ValueError(f'min_quality must be in [0, 1], got {self.min_quality}')
        if self.smoothing not in (None, 'guided', 'gaussian'):
            raise ValueError(f"smoothing must be None, 'guided' or 'gaussian', got {self.smoothing!r}")
        if self.smooth_radius < 1:
            raise ValueError(f'smooth_radius must be >= 1, got {self.smooth_radius}')


@dataclass
class PastedMasks:
    """``masks`` bool [N, H, W] in image space; ``scores`` [N]: mean probability inside each mask; ``quality`` [N]:
    each mask's quality score (:func:`mask_quality`) when the ROI masks carried one."""
    masks: torch.Tensor
    scores: torch.Tensor
    quality: torch.Tensor | None = None


def mask_quality(target_probs: torch.Tensor, person_probs: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """How much a mask is worth trusting: mean target probability x mean person evidence, both over the mask.

    RHIS segments whatever box it is given; on a box with no person in it the head can still draw a confident-looking
    blob. The people-seg UNet's person probability is evidence independent of the box, so a mask on background
    (person probability near 0 where the mask is) scores near 0 however sure the head is, and an empty mask scores 0.

    Args:
        target_probs: the head's target-person probabilities [N, mh, mw] in each box.
        person_probs: the UNet's person probability [N, mh, mw] in the same boxes (RoI-aligned).
        threshold: the mask is ``target_probs > threshold``.

    Returns:
        [N] scores in [0, 1].

    Example:
        >>> target = torch.full((2, 4, 4), 0.9)
        >>> mask_quality(target, torch.stack([torch.full((4, 4), 0.8), torch.zeros(4, 4)])).tolist()
        [0.7200000286102295, 0.0]
    """
    mask = (target_probs > threshold).flatten(1).float()
    count = mask.sum(1)
    confidence = (target_probs.flatten(1).float() * mask).sum(1) / count.clamp(min=1)
    evidence = (person_probs.flatten(1).float() * mask).sum(1) / count.clamp(min=1)
    return torch.where(count > 0, confidence * evidence, torch.zeros_like(count))


@dataclass
class RoIMasks:
    """One image's masks before paste-back: ROI-space target probabilities and the boxes they were cropped at.

    A few kB per box whatever the frame size (an image-size bool mask per box is what :meth:`paste` makes).

    Args:
        probs: target probabilities [N, mh, mw].
        boxes: the [N, 4] pixel boxes (x1, y1, x2, y2) where the ROIs were cropped, in the image's frame.
        image_size: (H, W) of the image.
        scores: detection scores [N] that rank instances for exclusivity (``None``: mask probability decides).
        quality: each mask's quality score [N] (:func:`mask_quality`; ``None`` when not measured). The
            ``score`` that ``rhis predict`` / ``rhis demo`` write for a mask is ``detector score x quality``.

    Example:
        >>> roi = RoIMasks(torch.ones(2, 8, 8), torch.tensor([[0., 0., 4., 4.], [2., 2., 6., 6.]]), (8, 8),
        ...                torch.tensor([0.9, 0.8]))
        >>> roi.paste().masks.sum(dim=(1, 2)).tolist()
        [16, 12]
    """
    probs: torch.Tensor
    boxes: torch.Tensor
    image_size: tuple[int, int]
    scores: torch.Tensor | None = None
    quality: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.boxes)

    def paste(self, cfg: PostprocessConfig = PostprocessConfig(), image: torch.Tensor | None = None) -> PastedMasks:
        """Bool masks [N, H, W] in box order (``image`` [3, H, W]: the guide of ``smoothing='guided'``)."""
        pasted = paste_masks(self.probs, self.boxes, self.image_size, cfg, image, self.scores)
        pasted.quality = self.quality
        return pasted

    def iter_paste(self, cfg: PostprocessConfig = PostprocessConfig(), image: torch.Tensor | None = None,
                   chunk: int = 64) -> Iterator[tuple[torch.Tensor, PastedMasks]]:
        """(instance indices, their :class:`PastedMasks`) ``chunk`` instances at a time in descending score order,
        so that memory holds ``chunk`` image-size masks however many people there are.

        Exclusivity holds across chunks: a later (lower-score) chunk gets only the pixels no earlier one owns.
        Equal scores split across two chunks go to the earlier one.
        """
        if chunk < 1:
            raise ValueError(f'chunk must be >= 1, got {chunk}')
        if self.scores is None:
            order = torch.arange(len(self), device=self.boxes.device)
        else:
            order = torch.argsort(-self.scores.float(), stable=True)
        owned = torch.zeros(self.image_size, dtype=torch.bool, device=self.probs.device) if cfg.exclusive else None
        for start in range(0, len(order), chunk):
            indices = order[start:start + chunk]
            pasted = paste_masks(self.probs[indices], self.boxes[indices], self.image_size, cfg, image,
                                 None if self.scores is None else self.scores[indices])
            pasted.quality = None if self.quality is None else self.quality[indices]
            if owned is not None:
                pasted.masks &= ~owned
                owned |= pasted.masks.any(dim=0)
            yield indices, pasted


def _window(lo: float, hi: float, margin: int, size: int) -> tuple[int, int]:
    return max(int(math.floor(lo)) - margin, 0), min(int(math.ceil(hi)) + margin, size)


def paste_masks(probs: torch.Tensor, boxes: torch.Tensor, image_size: tuple[int, int],
                cfg: PostprocessConfig = PostprocessConfig(), image: torch.Tensor | None = None,
                scores: torch.Tensor | None = None) -> PastedMasks:
    """Pastes target probabilities [N, mh, mw] of boxes [N, 4] (x1, y1, x2, y2 pixels) into an H x W image.

    Boxes may reach outside the image (the outside part is dropped) and may be smaller than a pixel (then
    the mask is empty unless the box holds a pixel centre). ``image`` [3, H, W] in [0, 1] is the guide of
    ``smoothing='guided'``. ``scores`` [N] are the detection scores that rank instances for exclusivity
    (``None``: all equal, so the mask probability decides each contested pixel).

    Returns:
        Bool masks [N, H, W] in box order and their mean probabilities.
    """
    height, width = int(image_size[0]), int(image_size[1])
    if probs.ndim != 3 or boxes.ndim != 2 or boxes.shape[-1] != 4 or len(probs) != len(boxes):
        raise ValueError(f'need probs [N, mh, mw] and boxes [N, 4], got {list(probs.shape)} and '
                         f'{list(boxes.shape)}')
    if cfg.smoothing == 'guided' and (image is None or tuple(image.shape) != (3, height, width)):
        raise ValueError(f"smoothing='guided' needs the image [3, {height}, {width}] as guide")
    if scores is not None and tuple(scores.shape) != (len(boxes),):
        raise ValueError(f'need one score per box: {len(boxes)} boxes, scores {list(scores.shape)}')
    device = probs.device
    count = len(boxes)
    masks = torch.zeros((count, height, width), dtype=torch.bool, device=device)
    mean_probs = torch.zeros(count, device=device)
    if cfg.exclusive:
        best = torch.zeros((height, width), device=device)
        owner = torch.full((height, width), -1, dtype=torch.long, device=device)
        level = _score_levels(scores, count, device)
    margin = cfg.dilation + (cfg.smooth_radius * 3 if cfg.smoothing else 0)
    boxes = boxes.float()
    for i in range(count):
        x1, y1, x2, y2 = boxes[i].tolist()
        if not (x2 > x1 and y2 > y1):
            continue
        c0, c1 = _window(x1, x2, margin, width)
        r0, r1 = _window(y1, y2, margin, height)
        if c1 <= c0 or r1 <= r0:
            continue
        u = (torch.arange(c0, c1, device=device) + 0.5 - x1) / (x2 - x1)
        v = (torch.arange(r0, r1, device=device) + 0.5 - y1) / (y2 - y1)
        grid = torch.stack(torch.meshgrid(v * 2 - 1, u * 2 - 1, indexing='ij')[::-1], dim=-1)
        prob = F.grid_sample(probs[i][None, None].float(), grid[None], mode='bilinear',
                             padding_mode='border', align_corners=False)[0, 0]
        inside = ((v >= 0) & (v <= 1))[:, None] & ((u >= 0) & (u <= 1))[None, :]
        prob = prob * inside
        if cfg.smoothing == 'guided':
            prob = guided_filter(image[None, :, r0:r1, c0:c1].float(), prob[None, None], cfg.smooth_radius,
                                 cfg.smooth_eps)[0, 0].clamp(0, 1)
        elif cfg.smoothing == 'gaussian':
            prob = gaussian_smooth(prob[None, None], cfg.smooth_radius / 2)[0, 0]
        mask = dilate(prob > cfg.threshold, cfg.dilation)
        if not mask.any():
            continue
        masks[i, r0:r1, c0:c1] = mask
        mean_probs[i] = prob[mask].mean()
        if cfg.exclusive:
            # A higher detection score always wins (levels are 2 apart, probabilities at most 1); dilated pixels
            # may have probability 0, and they still rank above "no instance".
            rank = torch.where(mask, level[i] + prob.clamp_min(1e-6), torch.zeros_like(prob))
            window_best, window_owner = best[r0:r1, c0:c1], owner[r0:r1, c0:c1]
            wins = rank > window_best
            window_best[wins] = rank[wins]
            window_owner[wins] = i
    if cfg.exclusive and count:
        masks &= owner[None] == torch.arange(count, device=device)[:, None, None]
    return PastedMasks(masks=masks, scores=mean_probs)


def clip_to_box(mask: torch.Tensor, box: torch.Tensor | Sequence[float]) -> torch.Tensor:
    """A bool mask [H, W] kept only where the pixel's centre lies in the pixel box (x1, y1, x2, y2): the part of it a
    mask pasted on that box can cover.

    Example:
        >>> clip_to_box(torch.ones(2, 4, dtype=torch.bool), torch.tensor([1.0, 0.0, 3.0, 2.0])).int().tolist()
        [[0, 1, 1, 0], [0, 1, 1, 0]]
    """
    height, width = mask.shape
    xs = torch.arange(width, device=mask.device) + 0.5
    ys = torch.arange(height, device=mask.device) + 0.5
    inside = ((ys >= box[1]) & (ys <= box[3]))[:, None] & ((xs >= box[0]) & (xs <= box[2]))[None, :]
    return mask & inside


def exclusive_masks(masks: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """:class:`PostprocessConfig`'s ``exclusive`` rule for binary masks [N, H, W] that come without probabilities
    (another system's, e.g. a YOLO-seg model or Mask R-CNN): each pixel goes to the highest-scoring instance that
    covers it (ties: the earlier one). Returns new masks."""
    masks = np.array(masks, dtype=bool, copy=True)
    owned = np.zeros(masks.shape[1:], dtype=bool)
    for i in np.argsort(-np.asarray(scores, dtype=np.float64), kind='stable'):
        masks[i] &= ~owned
        owned |= masks[i]
    return masks


def _score_levels(scores: torch.Tensor | None, count: int, device: torch.device) -> torch.Tensor:
    """Per instance, 2 x (number of distinct lower scores): equal scores share a level."""
    if scores is None or count == 0:
        return torch.zeros(count, device=device)
    values = scores.detach().float().to(device).contiguous()
    return 2.0 * torch.searchsorted(torch.unique(values), values).float()      # unique: ascending


def paste_batch(probs: torch.Tensor, boxes: Sequence[torch.Tensor], image_sizes: Sequence[tuple[int, int]],
                cfg: PostprocessConfig = PostprocessConfig(),
                guides: Sequence[torch.Tensor | None] | None = None,
                scores: Sequence[torch.Tensor | None] | None = None) -> list[PastedMasks]:
    """The one paste-back of every path (PyTorch API, mmdet, Ultralytics, ONNX runtime).

    Args:
        probs: target probabilities [N, mh, mw] of all the batch's ROIs, image after image.
        boxes: per image, the [Ni, 4] pixel boxes (x1, y1, x2, y2) in that image's output frame where its
            ROIs were cropped (sum of Ni = N).
        image_sizes: per image, the (H, W) of the masks to produce.
        cfg: post-processing options.
        guides: per image, the [3, H, W] image in [0, 1] for ``smoothing='guided'`` (otherwise unused).
        scores: per image, the [Ni] detection scores that rank instances for exclusivity (``None``: by mask
            probability alone).

    Returns:
        One :class:`PastedMasks` per image, masks in box order.

    Example:
        >>> probs = torch.ones(3, 8, 8)
        >>> boxes = [torch.tensor([[0., 0., 4., 4.], [2., 2., 6., 6.]]), torch.tensor([[1., 1., 3., 3.]])]
        >>> [tuple(p.masks.shape) for p in paste_batch(probs, boxes, [(8, 8), (5, 5)])]
        [(2, 8, 8), (1, 5, 5)]
    """
    counts = [len(b) for b in boxes]
    if len(image_sizes) != len(boxes) or sum(counts) != len(probs):
        raise ValueError(f'{len(probs)} ROI probabilities for box counts {counts} and {len(image_sizes)} image sizes')
    guides = list(guides) if guides is not None else [None] * len(boxes)
    scores = list(scores) if scores is not None else [None] * len(boxes)
    return [paste_masks(image_probs, image_boxes, size, cfg, guide if cfg.smoothing == 'guided' else None, score)
            for image_probs, image_boxes, size, guide, score
            in zip(probs.split(counts), boxes, image_sizes, guides, scores)]
