"""Pixel metrics for binary person segmentation, accumulated image by image over a dataset.

Counts are global (every pixel of the set weighs the same); ``mean_image_iou`` averages per-image IoU as the
reference implementation's mIoU does. AUROC comes from per-class histograms of the predicted probability, so
memory stays constant whatever the set size.
"""
from __future__ import annotations

import numpy as np
import torch

__all__ = ['BinarySegAccumulator']


def _numpy(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


class BinarySegAccumulator:
    """Accumulates binary segmentation statistics over a dataset (IoU, Dice, precision, recall, AUROC).

    Args:
        threshold: probability at or above which a pixel counts as person.
        bins: histogram bins over [0, 1] for AUROC.
    """

    def __init__(self, threshold: float = 0.5, bins: int = 1000) -> None:
        if not 0.0 < threshold < 1.0:
            raise ValueError(f'threshold must be in (0, 1), got {threshold}')
        self.threshold = threshold
        self.bins = bins
        self.counts = np.zeros(4, dtype=np.int64)      # tp, fp, fn, tn
        self.hist_pos = np.zeros(bins, dtype=np.int64)
        self.hist_neg = np.zeros(bins, dtype=np.int64)
        self.image_ious: list[float] = []

    def add(self, prob, target, valid=None) -> None:
        """prob: [H, W] person probabilities in [0, 1]; target: [H, W] {0, 1}; valid: pixels that count."""
        prob, target = _numpy(prob).astype(np.float64), _numpy(target).astype(bool)
        if prob.shape != target.shape:
            raise ValueError(f'prediction {prob.shape} and target {target.shape} must have the same shape')
        if prob.size and (prob.min() < 0 or prob.max() > 1):
            raise ValueError('predictions must be probabilities in [0, 1]')
        if valid is not None:
            valid = _numpy(valid).astype(bool)
            prob, target = prob[valid], target[valid]
        pred = prob >= self.threshold
        tp = int((pred & target).sum())
        fp = int((pred & ~target).sum())
        fn = int((~pred & target).sum())
        self.counts += np.array([tp, fp, fn, pred.size - tp - fp - fn])
        self.image_ious.append(tp / (tp + fp + fn) if tp + fp + fn else 1.0)
        index = np.minimum((prob * self.bins).astype(np.int64), self.bins - 1)
        self.hist_pos += np.bincount(index[target], minlength=self.bins)
        self.hist_neg += np.bincount(index[~target], minlength=self.bins)

    def merge(self, other: 'BinarySegAccumulator') -> 'BinarySegAccumulator':
        """Adds ``other``'s counts to this one (e.g. per-image results gathered from workers)."""
        if (other.threshold, other.bins) != (self.threshold, self.bins):
            raise ValueError('accumulators with different thresholds or bins cannot be merged')
        self.counts += other.counts
        self.hist_pos += other.hist_pos
        self.hist_neg += other.hist_neg
        self.image_ious.extend(other.image_ious)
        return self

    def auroc(self) -> float:
        pos, neg = self.hist_pos.sum(), self.hist_neg.sum()
        if pos == 0 or neg == 0:
            return float('nan')
        # Sweep the threshold from high to low; ties inside a bin give a trapezoid.
        tpr = np.concatenate([[0.0], np.cumsum(self.hist_pos[::-1]) / pos])
        fpr = np.concatenate([[0.0], np.cumsum(self.hist_neg[::-1]) / neg])
        return float(np.sum((fpr[1:] - fpr[:-1]) * (tpr[1:] + tpr[:-1]) / 2))

    def evaluate(self) -> dict[str, float]:
        if not self.image_ious:
            raise ValueError('no images were added')
        tp, fp, fn, tn = (float(c) for c in self.counts)

        def ratio(a: float, b: float) -> float:
            return a / b if b else float('nan')

        return {'iou': ratio(tp, tp + fp + fn), 'dice': ratio(2 * tp, 2 * tp + fp + fn),
                'precision': ratio(tp, tp + fp), 'recall': ratio(tp, tp + fn),
                'accuracy': ratio(tp + tn, tp + fp + fn + tn), 'auroc': self.auroc(),
                'mean_image_iou': float(np.mean(self.image_ious)), 'num_images': float(len(self.image_ious))}
