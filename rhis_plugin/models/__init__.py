"""RHIS models in pure PyTorch (torch, torchvision, timm, segmentation-models-pytorch; no framework import)."""
from .hierarchical_head import HierarchicalMaskHead, combine_hierarchical_logits
from .guided_filter import LearnableGuidedFilter
from .peopleseg_unet import PEOPLESEG_ENCODERS, PeopleSegUNet
from .presets import build_from_config, build_rhis, list_presets, preset_config
from .pretrained import load_peopleseg_weights, load_rhis, load_roi_encoder_weights, save_rhis
from .rhis import RHIS, RHISConfig
from .roi_encoder import RoIEncoder
from .rois import boxes_to_rois, check_rois, clip_rois, rois_to_pixels
from .upstream import UpstreamRHIS
from .working_size import to_working_size, working_shape, working_to_frame

__all__ = ['HierarchicalMaskHead', 'combine_hierarchical_logits', 'LearnableGuidedFilter', 'PEOPLESEG_ENCODERS',
           'PeopleSegUNet', 'build_from_config',
           'build_rhis', 'list_presets', 'preset_config', 'load_peopleseg_weights', 'load_rhis',
           'load_roi_encoder_weights', 'save_rhis', 'RHIS', 'RHISConfig', 'RoIEncoder', 'boxes_to_rois',
           'check_rois', 'clip_rois', 'rois_to_pixels', 'UpstreamRHIS', 'to_working_size', 'working_shape', 'working_to_frame']
