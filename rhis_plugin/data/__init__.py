"""Datasets and data generators (framework-free)."""
from .coco import encode_mask, instance_annotation, write_coco
from .synthetic import Scene, SceneConfig, generate_dataset, make_scene

__all__ = ['encode_mask', 'instance_annotation', 'write_coco', 'Scene', 'SceneConfig', 'generate_dataset',
           'make_scene']
