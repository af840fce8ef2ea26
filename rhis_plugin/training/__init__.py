"""Training utilities (pure torch): ROI targets, box jitter, value schedules and small training loops (scoring is
:func:`rhis_plugin.deploy.evaluate_rhis`, the one protocol of every tool)."""
from .roi_targets import build_roi_targets, jitter_boxes, match_proposals
from .schedules import SCHEDULE_KINDS, ValueSchedule
from .peopleseg_trainer import evaluate_peopleseg, train_peopleseg, union_targets
from .trainer import (Distillation, LearningCurve, TrainConfig, add_train_arguments, optimise, resume_options,
                      train_rhis)

__all__ = ['build_roi_targets', 'jitter_boxes', 'match_proposals', 'evaluate_peopleseg', 'train_peopleseg',
           'union_targets', 'SCHEDULE_KINDS', 'ValueSchedule', 'LearningCurve', 'TrainConfig', 'add_train_arguments',
           'optimise', 'resume_options', 'train_rhis', 'Distillation']
