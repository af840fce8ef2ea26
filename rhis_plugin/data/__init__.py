"""Datasets, data generators and dataset-level metrics (framework-free)."""
from .binary_seg_eval import BinarySegAccumulator
from .coco import encode_mask, instance_annotation, write_coco
from .distance_map import signed_distance_map
from .synthetic import Scene, SceneConfig, generate_dataset, make_scene

__all__ = ['BinarySegAccumulator', 'encode_mask', 'instance_annotation', 'write_coco', 'signed_distance_map',
           'Scene', 'SceneConfig', 'generate_dataset', 'make_scene']
