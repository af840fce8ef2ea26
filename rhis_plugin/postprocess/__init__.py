"""Image-space post-processing of RHIS outputs (pure torch)."""
from .paste import PastedMasks, PostprocessConfig, paste_batch, paste_masks, union_person_mask
from .refine import box_filter, dilate, fast_guided_filter, gaussian_smooth, guided_filter

__all__ = ['PastedMasks', 'PostprocessConfig', 'paste_batch', 'paste_masks', 'union_person_mask', 'box_filter',
           'dilate',
           'fast_guided_filter', 'gaussian_smooth', 'guided_filter']
