"""Copy-paste of people: pixels and masks move together, the covered people lose those pixels, the nearly hidden
ones are dropped, labels follow their masks, and the dataset wrapper and the trainer flag use it."""
import pytest
import torch

from rhis_plugin.data import CopyPasteConfig, CopyPasteDataset, copy_paste

EXACT = CopyPasteConfig(probability=1.0, max_instances=1, scale_range=(1.0, 1.0), flip=0.0)


def sample(boxes, value: float, size=(40, 40)) -> dict:
    masks = torch.zeros(len(boxes), *size, dtype=torch.bool)
    for mask, (x1, y1, x2, y2) in zip(masks, boxes):
        mask[y1:y2, x1:x2] = True
    return {'image': torch.full((3, *size), value), 'masks': masks, 'crowd': torch.zeros(size, dtype=torch.bool),
            'labels': torch.arange(len(boxes)), 'image_id': 7}


def test_pasted_person_covers_the_target_and_brings_its_pixels():
    target = sample([(0, 0, 40, 40), (30, 30, 36, 40)], 0.0)     # a large person and a small one
    source = sample([(10, 5, 20, 35)], 1.0)                     # a 10 x 30 person
    out = copy_paste(target, source, EXACT, torch.Generator().manual_seed(0))
    pasted = out['masks'][-1]
    assert pasted.sum() == 300 and out['image'][:, pasted].eq(1.0).all() and out['image'][:, ~pasted].eq(0.0).all()
    assert not (out['masks'][:-1] & pasted).any()                         # the covered pixels left the others
    assert out['masks'][0].sum() == 1600 - 300                              # the large one kept (81 % visible)
    assert out['boxes'].shape == (len(out['masks']), 4) and out['image_id'] == 7
    assert out['labels'][-1] == 0 and len(out['labels']) == len(out['masks'])


def test_a_nearly_hidden_person_is_dropped():
    target = sample([(10, 10, 20, 30)], 0.0)
    source = sample([(0, 0, 40, 40)], 1.0)          # covers the whole frame: nothing of the target stays visible
    out = copy_paste(target, source, EXACT, torch.Generator().manual_seed(1))
    assert len(out['masks']) == 1 and out['masks'][0].all()


def test_jitter_is_reproducible_and_keeps_the_frame_size():
    target, source = sample([(2, 2, 12, 30)], 0.0), sample([(5, 5, 15, 35), (20, 5, 30, 35)], 1.0, size=(60, 50))
    cfg = CopyPasteConfig(probability=1.0, max_instances=2, scale_range=(0.5, 1.5), flip=0.5)
    first = copy_paste(target, source, cfg, torch.Generator().manual_seed(3))
    again = copy_paste(target, source, cfg, torch.Generator().manual_seed(3))
    assert first['image'].shape == (3, 40, 40) and first['masks'].shape[-2:] == (40, 40)
    assert torch.equal(first['masks'], again['masks']) and torch.equal(first['image'], again['image'])


def test_dataset_wrapper_and_config_checks():
    data = [sample([(0, 0, 10, 20)], 0.0), sample([(20, 10, 30, 40)], 1.0)]
    torch.manual_seed(0)
    out = CopyPasteDataset(data, EXACT)[0]
    assert len(out['masks']) == 2 and out['image'].max() == 1.0
    with pytest.raises(ValueError, match='at least 2'):
        CopyPasteDataset(data[:1])
    with pytest.raises(ValueError, match='scale_range'):
        CopyPasteConfig(scale_range=(1.0, 0.5))
