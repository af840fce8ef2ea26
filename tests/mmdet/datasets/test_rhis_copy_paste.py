"""RHISCopyPaste in an mmdet pipeline: built from the registry, fed a second image by MultiImageMixDataset, it pastes
people (masks, boxes, labels agree) and refuses to run without the second image."""
import numpy as np
import pytest
from mmdet.registry import DATASETS, TRANSFORMS

import rhis_plugin.mmdet  # noqa: F401  (registers the transform)


def test_pastes_people_through_multi_image_mix_dataset(synthetic_root):
    load = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations', with_bbox=True, with_mask=True)]
    dataset = DATASETS.build(dict(
        type='MultiImageMixDataset',
        dataset=dict(type='CocoDataset', data_root=f'{synthetic_root}/train/', ann_file='annotations.json',
                     data_prefix=dict(img='images/'), metainfo=dict(classes=('person',)), pipeline=load),
        pipeline=[dict(type='RHISCopyPaste', prob=1.0, scale_range=(1.0, 1.0), flip=0.0)]))
    plain = dataset.dataset[0]
    pasted = dataset[0]
    masks, boxes = pasted['gt_masks'], pasted['gt_bboxes'].tensor.numpy()
    assert len(masks) == len(boxes) == len(pasted['gt_bboxes_labels']) == len(pasted['gt_ignore_flags'])
    assert (pasted['gt_bboxes_labels'] == 0).all() and pasted['img'].shape == plain['img'].shape
    assert not np.array_equal(pasted['img'], plain['img'])          # someone was pasted
    for mask, box in zip(masks.masks, boxes):                       # each box is its mask's tight box
        ys, xs = np.nonzero(mask)
        np.testing.assert_allclose(box, [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
    last = masks.masks[-1].astype(bool)                              # a pasted person: in front of everyone
    assert not (masks.masks[:-1].astype(bool) & last).any() and (pasted['img'][last] != plain['img'][last]).any()


def test_needs_a_second_image():
    transform = TRANSFORMS.build(dict(type='RHISCopyPaste'))
    with pytest.raises(ValueError, match='MultiImageMixDataset'):
        transform({'img': np.zeros((8, 8, 3), np.uint8)})
