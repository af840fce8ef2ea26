"""Image-space post-processing of RHIS outputs (pure torch)."""
from .paste import (PastedMasks, PostprocessConfig, RoIMasks, clip_to_box, exclusive_masks, mask_quality, paste_batch,
                    paste_masks)
from .refine import box_filter, dilate, fast_guided_filter, gaussian_smooth, guided_filter

__all__ = ['PastedMasks', 'PostprocessConfig', 'RoIMasks', 'clip_to_box', 'exclusive_masks', 'mask_quality',
           'paste_batch', 'paste_masks', 'box_filter', 'dilate', 'fast_guided_filter', 'gaussian_smooth',
           'guided_filter']
