"""Datasets, data generators and dataset-level metrics (framework-free)."""
from .augment import AugmentConfig, AugmentedDataset, augment
from .binary_seg_eval import BinarySegAccumulator
from .coco import encode_mask, instance_annotation, merge_coco_folders, write_coco
from .coco_dataset import (SPLITS, CocoPersonDataset, coco_person_dataset, collate_samples, datasets_by_spec,
                           letterbox, mask_boxes, parse_folder, split_of)
from .coco_eval import CocoAccumulator
from .copy_paste import CopyPasteConfig, CopyPasteDataset, copy_paste
from .distance_map import signed_distance_map
from .images import read_rgb_image, rgb_to_tensor
from .occlusion import occlusion_by_annotation, others_in_box
from .synthetic import Scene, SceneConfig, generate_dataset, make_scene

__all__ = ['AugmentConfig', 'AugmentedDataset', 'augment', 'BinarySegAccumulator', 'encode_mask', 'instance_annotation', 'merge_coco_folders', 'write_coco', 'SPLITS', 'CocoPersonDataset',
           'coco_person_dataset', 'collate_samples', 'datasets_by_spec', 'letterbox', 'mask_boxes', 'parse_folder', 'split_of',
           'CocoAccumulator', 'CopyPasteConfig', 'CopyPasteDataset', 'copy_paste', 'signed_distance_map', 'read_rgb_image', 'rgb_to_tensor', 'occlusion_by_annotation',
           'others_in_box', 'Scene', 'SceneConfig', 'generate_dataset', 'make_scene']
