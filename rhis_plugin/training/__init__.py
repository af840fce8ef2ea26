"""Training utilities (pure torch): ROI targets, box jitter, a small training loop and ROI-space evaluation."""
from .roi_targets import build_roi_targets, jitter_boxes, match_proposals
from .trainer import TrainConfig, evaluate_target_iou, train_rhis

__all__ = ['build_roi_targets', 'jitter_boxes', 'match_proposals', 'TrainConfig', 'evaluate_target_iou', 'train_rhis']
