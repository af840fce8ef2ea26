"""RHISCopyPaste: people of another training image pasted onto this one, in an mmdet pipeline.

The framework-free :func:`~rhis_plugin.data.copy_paste.copy_paste` on mmdet's results dicts. Like mmdet's own
``CopyPaste`` it needs a second image: wrap the dataset in ``MultiImageMixDataset`` (which calls
:meth:`RHISCopyPaste.get_indexes` and puts the other image's results in ``results['mix_results']``), and place the
transform after both images have their final size (after ``Resize``/``Pad``; the other image is rescaled by the
transform's own jitter anyway). Unlike mmdet's ``CopyPaste`` it pastes people only, with scale and flip jitter, and
drops a person left with less than ``min_visible`` of its area (RHIS's occluded people are what it is for).
"""
from __future__ import annotations

import random

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmdet.registry import TRANSFORMS
from mmdet.structures.bbox import HorizontalBoxes
from mmdet.structures.mask import BitmapMasks

from rhis_plugin.data.copy_paste import CopyPasteConfig, copy_paste

__all__ = ['RHISCopyPaste']


@TRANSFORMS.register_module()
class RHISCopyPaste(BaseTransform):
    """Args: ``prob`` (chance per sample), ``max_instances``, ``scale_range``, ``flip``, ``min_visible`` as in
    :class:`~rhis_plugin.data.copy_paste.CopyPasteConfig`; ``person_label``: the label of people in the dataset's
    classes (pasted instances come from it, ignored / crowd instances never)."""

    def __init__(self, prob: float = 0.5, max_instances: int = 3, scale_range: tuple[float, float] = (0.5, 1.25),
                 flip: float = 0.5, min_visible: float = 0.1, person_label: int = 0) -> None:
        self.cfg = CopyPasteConfig(prob, max_instances, tuple(scale_range), flip, min_visible)
        self.person_label = person_label

    def get_indexes(self, dataset) -> int:
        return random.randint(0, len(dataset) - 1)

    def _sample(self, results: dict, people_only: bool) -> dict:
        masks = results['gt_masks']
        if not isinstance(masks, BitmapMasks):      # PolygonMasks (LoadAnnotations without poly2mask)
            masks = masks.to_bitmap()
        labels = np.asarray(results['gt_bboxes_labels'], np.int64)
        ignore = np.asarray(results.get('gt_ignore_flags', np.zeros(len(labels), bool)), bool)
        keep = (labels == self.person_label) & ~ignore if people_only else np.ones(len(labels), bool)
        image = torch.from_numpy(np.ascontiguousarray(results['img'])).permute(2, 0, 1).float() / 255
        return {'image': image, 'masks': torch.from_numpy(masks.masks[keep].astype(bool)),
                'labels': torch.from_numpy(labels[keep]), 'ignore': torch.from_numpy(ignore[keep])}

    def transform(self, results: dict) -> dict:
        if not results.get('mix_results'):
            raise ValueError('RHISCopyPaste needs a second image: wrap the dataset in MultiImageMixDataset')
        if random.random() >= self.cfg.probability:
            return results
        target = self._sample(results, people_only=False)
        source = self._sample(results['mix_results'][0], people_only=True)
        out = copy_paste(target, source, self.cfg)
        height, width = results['img'].shape[:2]
        results['img'] = (out['image'].permute(1, 2, 0) * 255).round().clamp(0, 255).byte().numpy()
        results['gt_masks'] = BitmapMasks(out['masks'].numpy().astype(np.uint8), height, width)
        results['gt_bboxes'] = HorizontalBoxes(out['boxes'].numpy().astype(np.float32))
        results['gt_bboxes_labels'] = out['labels'].numpy()
        results['gt_ignore_flags'] = out['ignore'].numpy()
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}({self.cfg}, person_label={self.person_label})'
