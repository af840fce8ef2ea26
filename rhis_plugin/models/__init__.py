"""RHIS models in pure PyTorch (torch, torchvision, timm, segmentation-models-pytorch; no framework import)."""
from .hierarchical_head import HierarchicalMaskHead, combine_hierarchical_logits
from .guided_filter import LearnableGuidedFilter
from .imagenet import IMAGENET_WEIGHTS, encoder_normalization, load_imagenet_weights
from .peopleseg_unet import PEOPLESEG_ENCODERS, PeopleSegUNet
from .presets import (DEFAULT_PRESET, build_from_config, build_rhis, list_presets, preset_config,
                      preset_of_config)
from .pretrained import load_peopleseg_weights, load_rhis, load_roi_encoder_weights, rhis_from_weights, save_rhis
from .rhis import RHIS, RHISConfig
from .roi_encoder import RoIEncoder
from .rois import boxes_to_rois, check_rois, clip_rois, rois_to_pixels
from .upstream import UpstreamRHIS
from .weights_origin import (RandomWeightsError, RandomWeightsWarning, has_random_peopleseg, peopleseg_origin,
                             refuse_random_peopleseg)
from .working_size import to_working_size, working_shape, working_to_frame

__all__ = ['HierarchicalMaskHead', 'combine_hierarchical_logits', 'LearnableGuidedFilter', 'IMAGENET_WEIGHTS',
           'encoder_normalization', 'load_imagenet_weights', 'PEOPLESEG_ENCODERS', 'PeopleSegUNet', 'DEFAULT_PRESET',
           'build_from_config', 'build_rhis', 'list_presets', 'preset_config', 'preset_of_config',
           'load_peopleseg_weights', 'load_rhis',
           'load_roi_encoder_weights', 'rhis_from_weights', 'save_rhis', 'RHIS', 'RHISConfig', 'RoIEncoder', 'boxes_to_rois',
           'check_rois', 'clip_rois', 'rois_to_pixels', 'UpstreamRHIS', 'RandomWeightsError', 'RandomWeightsWarning',
           'has_random_peopleseg', 'peopleseg_origin', 'refuse_random_peopleseg', 'to_working_size', 'working_shape',
           'working_to_frame']
