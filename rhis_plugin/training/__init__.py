"""Training utilities (pure torch): ROI targets, box jitter, value schedules, a small training loop and ROI-space
evaluation."""
from .roi_targets import build_roi_targets, jitter_boxes, match_proposals
from .schedules import SCHEDULE_KINDS, ValueSchedule
from .peopleseg_trainer import evaluate_peopleseg, train_peopleseg, union_targets
from .trainer import TrainConfig, add_train_arguments, evaluate_target_iou, optimise, train_rhis
from .mask_ap import OCCLUDED, mask_ap_on_gt_boxes

__all__ = ['build_roi_targets', 'jitter_boxes', 'match_proposals', 'evaluate_peopleseg', 'train_peopleseg',
           'union_targets', 'SCHEDULE_KINDS', 'ValueSchedule', 'TrainConfig', 'add_train_arguments', 'evaluate_target_iou', 'optimise',
           'train_rhis', 'OCCLUDED', 'mask_ap_on_gt_boxes']
