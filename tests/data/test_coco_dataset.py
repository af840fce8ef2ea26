"""COCO person folders: the coco-val-fifth split, sources, several folders, crowd regions ignored."""
import json

import numpy as np
import pytest
import torch

from rhis_plugin.data import (CocoAccumulator, CocoPersonDataset, coco_person_dataset, collate_samples, datasets_by_spec,
                              parse_folder, split_of)
from rhis_plugin.data.coco import encode_mask
from rhis_plugin.data.synthetic import SceneConfig, generate_dataset
from rhis_plugin.losses import RHISLoss
from rhis_plugin.training import build_roi_targets


@pytest.fixture(scope='module')
def folder(tmp_path_factory):
    """10 generated scenes; images get a ``source`` (odd ones converted) and image 1 a crowd region."""
    root = tmp_path_factory.mktemp('coco')
    generate_dataset(root, 10, seed=0, cfg=SceneConfig(height=64, width=64))
    ann_file = root / 'annotations.json'
    data = json.loads(ann_file.read_text())
    for info in data['images']:
        info['source'] = 'coco128seg_train' if info['id'] % 2 else 'coco_train__mini'
    crowd = np.zeros((64, 64), np.uint8)
    crowd[:20, :20] = 1
    rle = encode_mask(crowd)
    data['annotations'].append({'id': 999, 'image_id': data['images'][1]['id'], 'category_id': 1, 'iscrowd': 1,
                                'segmentation': rle, 'area': 400.0, 'bbox': [0, 0, 20, 20]})
    ann_file.write_text(json.dumps(data))
    return root


def test_every_fifth_file_name_is_validation(folder):
    assert split_of(['c.jpg', 'a.jpg', 'f.jpg', 'b.jpg', 'e.jpg', 'd.jpg']) == {
        'a.jpg': 'val', 'b.jpg': 'train', 'c.jpg': 'train', 'd.jpg': 'train', 'e.jpg': 'train', 'f.jpg': 'val'}
    train, val = CocoPersonDataset(folder, split='train'), CocoPersonDataset(folder, split='val')
    assert len(train) == 8 and len(val) == 2 and not set(train.image_ids) & set(val.image_ids)
    assert parse_folder(f'{folder}:val') == (folder, 'val') and parse_folder(folder) == (folder, 'all')
    with pytest.raises(ValueError, match='split'):
        CocoPersonDataset(folder, split='test')


def test_sources_and_several_folders(folder):
    own = coco_person_dataset(f'{folder}:train', sources=['coco_train'])
    assert len(own) == 4                                 # even ids, minus the validation fifth
    both = coco_person_dataset([f'{folder}:train', f'{folder}:val'], image_size=(64, 64))
    assert len(both) == 10 and both[9]['image'].shape == (3, 64, 64)


def test_val_sets_by_spec_keep_the_split_and_source(folder):
    specs = [f'{folder}:val', f'{folder}:train#coco_train', str(folder)]
    sets = datasets_by_spec(specs)
    assert list(sets) == specs
    assert [len(sets[spec]) for spec in specs] == [2, 4, 10]
    assert sets[specs[0]][0]['image'].shape[1:] == (64, 64)    # original size: benchmarks score there


def test_crowd_regions_are_ignored_in_targets_losses_and_evaluation(folder):
    dataset = CocoPersonDataset(folder)
    sample = dataset[1]
    assert sample['crowd'][:20, :20].all() and not sample['crowd'][30:].any()
    assert len(sample['masks']) == len(dataset.coco.getAnnIds(imgIds=dataset.image_ids[1], iscrowd=False))
    batch = collate_samples([sample])
    rois = torch.tensor([[0, 0.0, 0.0, 64.0, 64.0]])
    targets = build_roi_targets(batch['masks'], rois, torch.tensor([0]), (32, 32), ignore_masks=batch['crowd'])
    ignored = (targets[0] == -1).nonzero()
    assert len(ignored) and ignored.max() <= 10           # only inside the crowd corner (20 of 64 px -> 10 of 32)
    # Logits that differ only where targets are ignored give the same loss.
    outputs = {'masks': torch.randn(1, 3, 32, 32), 'bgfg_logits': torch.randn(1, 2, 32, 32),
               'tnt_logits': torch.randn(1, 2, 32, 32), 'contour_logits': torch.randn(1, 1, 32, 32),
               'distance': torch.randn(1, 1, 32, 32)}
    changed = {k: torch.where(targets[:, None] == -1, torch.randn_like(v), v) for k, v in outputs.items()}
    first, second = RHISLoss()(outputs, targets), RHISLoss()(changed, targets)
    for name in first:
        assert torch.allclose(first[name], second[name], atol=1e-6), name
    # A detection on the crowd region is not a false positive: AP stays 1 with it.
    accumulator = CocoAccumulator()
    image_id = accumulator.add_image(64, 64, sample['masks'].numpy(), sample['crowd'].numpy())
    masks = np.concatenate([sample['masks'].numpy(), sample['crowd'].numpy()[None]])
    boxes = np.array([[0, 0, 64, 64]] * len(masks), np.float32)
    accumulator.add_detections(image_id, boxes, np.linspace(1, 0.5, len(masks)), masks)
    assert accumulator.evaluate()['segm_AP'] > 0.99
