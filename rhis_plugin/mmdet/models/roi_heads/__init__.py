"""RoI heads: the RHIS head (``RHISRoIHead``), its distillation variant and the two-stage mask branch."""
from .rhis_distill_roi_head import RHISDistillRoIHead
from .rhis_mask_roi_head import RHISMaskRoIHead
from .rhis_roi_head import RHISRoIHead

__all__ = ['RHISDistillRoIHead', 'RHISMaskRoIHead', 'RHISRoIHead']
