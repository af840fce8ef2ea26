"""PeopleSegTargets: the people-seg UNet's targets from instance annotations, built in the data pipeline."""
from __future__ import annotations

import numpy as np
from mmcv.transforms import BaseTransform
from mmdet.registry import TRANSFORMS

from rhis_plugin.data.distance_map import signed_distance_map

__all__ = ['PeopleSegTargets']


@TRANSFORMS.register_module()
class PeopleSegTargets(BaseTransform):
    """Union of the image's non-crowd person masks as ``gt_seg_map`` (uint8 {0, 1}); with
    ``with_signed_distance`` also ``gt_signed_distance`` (float32, > 0 inside) for the boundary loss.

    Place it after the geometric transforms (Resize, RandomFlip) and before :class:`PackPeopleSegInputs`.
    Crowd regions (``gt_ignore_flags``) are left out of the union. Computing the distance map here keeps it on
    the CPU workers, off the training device.

    Args:
        person_labels: label indices that are people; ``None`` takes every label.
        with_signed_distance: also compute the signed distance map.
    """

    def __init__(self, person_labels: list[int] | None = None, with_signed_distance: bool = True) -> None:
        self.person_labels = None if person_labels is None else list(person_labels)
        self.with_signed_distance = with_signed_distance

    def transform(self, results: dict) -> dict:
        height, width = results['img'].shape[:2]
        union = np.zeros((height, width), dtype=np.uint8)
        masks = results.get('gt_masks')
        if masks is not None and len(masks):
            keep = ~results['gt_ignore_flags'].astype(bool)
            if self.person_labels is not None:
                keep &= np.isin(results['gt_bboxes_labels'], self.person_labels)
            if keep.any():
                union = masks[np.flatnonzero(keep)].to_ndarray().any(axis=0).astype(np.uint8)
        if union.shape != (height, width):
            raise ValueError(f'masks {union.shape} do not match the image {(height, width)}: '
                             'put PeopleSegTargets after every geometric transform')
        results['gt_seg_map'] = union
        if self.with_signed_distance:
            results['gt_signed_distance'] = signed_distance_map(union)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(person_labels={self.person_labels}, '
                f'with_signed_distance={self.with_signed_distance})')
