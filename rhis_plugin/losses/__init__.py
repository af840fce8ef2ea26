"""RHIS training losses (pure torch)."""
from .distance_transform import distance_to_mask, signed_distance
from .rhis_loss import SEPARATION_AWARE_WEIGHTS, RHISLoss, RHISLossConfig

__all__ = ['distance_to_mask', 'signed_distance', 'SEPARATION_AWARE_WEIGHTS', 'RHISLoss', 'RHISLossConfig']
