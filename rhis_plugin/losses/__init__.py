"""Training losses (pure torch): the RHIS instance head, the people-seg UNet and distillation."""
from .distance_transform import distance_to_mask, signed_distance
from .distillation import FeatureMatching, binary_kd_loss, mix_distillation, softmax_kd_loss
from .rhis_loss import SEPARATION_AWARE_WEIGHTS, RHISLoss, RHISLossConfig
from .segmentation import (REGION_LOSSES, PeopleSegLoss, PeopleSegLossConfig, boundary_loss, dice_loss,
                           generalized_dice_loss, tversky_loss)
from .target_mask_loss import TargetMaskLoss

__all__ = ['distance_to_mask', 'signed_distance', 'FeatureMatching', 'binary_kd_loss', 'mix_distillation', 'softmax_kd_loss',
           'SEPARATION_AWARE_WEIGHTS', 'RHISLoss', 'RHISLossConfig', 'REGION_LOSSES', 'PeopleSegLoss',
           'PeopleSegLossConfig', 'boundary_loss', 'dice_loss', 'generalized_dice_loss', 'tversky_loss',
           'TargetMaskLoss']
