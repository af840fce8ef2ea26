"""PackPeopleSegInputs: mmdet's PackDetInputs plus the signed distance map of :class:`PeopleSegTargets`."""
from __future__ import annotations

import torch
from mmdet.datasets.transforms import PackDetInputs
from mmdet.registry import TRANSFORMS

__all__ = ['PackPeopleSegInputs']


@TRANSFORMS.register_module()
class PackPeopleSegInputs(PackDetInputs):
    """Packs like PackDetInputs (``gt_seg_map`` becomes ``data_sample.gt_sem_seg.sem_seg``) and adds
    ``gt_signed_distance`` as ``data_sample.gt_sem_seg.signed_distance`` [1, H, W]."""

    def transform(self, results: dict) -> dict:
        packed = super().transform(results)
        if 'gt_signed_distance' in results:
            sample = packed['data_samples']
            if 'gt_sem_seg' not in sample:
                raise KeyError('gt_signed_distance needs gt_seg_map (PeopleSegTargets) in the same pipeline')
            sample.gt_sem_seg.signed_distance = torch.from_numpy(results['gt_signed_distance'][None].copy())
        return packed
