"""How much of other people lies inside each person's box: defines the occluded subsets we report."""
from __future__ import annotations

import numpy as np
from pycocotools.coco import COCO

OCCLUDED = 0.1      # a person is occluded when its box holds >= this fraction of another person's pixels


def others_in_box(masks: list[np.ndarray]) -> np.ndarray:
    """For each instance i, the largest fraction of another instance's pixels inside i's tight box.

    ``masks`` are boolean HxW masks of one image. An instance with an empty mask gets 0.
    """
    areas = np.array([m.sum() for m in masks], dtype=np.float64)
    result = np.zeros(len(masks))
    for i, mask in enumerate(masks):
        ys, xs = np.nonzero(mask)
        if len(ys) == 0:
            continue
        window = (slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1))
        for j, other in enumerate(masks):
            if j != i and areas[j] > 0:
                result[i] = max(result[i], other[window].sum() / areas[j])
    return result


def occlusion_by_annotation(coco: COCO) -> dict[int, float]:
    """``others_in_box`` for every non-crowd annotation of a COCO dataset, keyed by annotation id."""
    result: dict[int, float] = {}
    for image_id in coco.getImgIds():
        anns = [a for a in coco.loadAnns(coco.getAnnIds(imgIds=image_id, iscrowd=False))]
        fractions = others_in_box([coco.annToMask(a).astype(bool) for a in anns])
        result.update({a['id']: float(f) for a, f in zip(anns, fractions)})
    return result
