"""Training augmentation: image, masks, crowd region and boxes move together; colour jitter leaves masks alone."""
import pytest
import torch

from rhis_plugin.data import AugmentConfig, AugmentedDataset, augment, mask_boxes


def sample(height=40, width=60):
    masks = torch.zeros(2, height, width, dtype=torch.bool)
    masks[0, 5:30, 4:14] = True
    masks[1, 10:38, 40:58] = True
    crowd = torch.zeros(height, width, dtype=torch.bool)
    crowd[0:4, 20:30] = True
    image = torch.rand(3, height, width)
    image[:, masks[0]] = 1.0            # the first person is white: it must stay where its mask goes
    return {'image': image, 'masks': masks, 'crowd': crowd, 'labels': torch.tensor([1, 2]), 'image_id': 7}


def test_flip_moves_image_masks_crowd_and_boxes_together():
    s = sample()
    out = augment(s, AugmentConfig(flip=1.0, scale_range=(1.0, 1.0), brightness=0, contrast=0, saturation=0))
    assert torch.equal(out['masks'], s['masks'].flip(-1)) and torch.equal(out['crowd'], s['crowd'].flip(-1))
    assert torch.allclose(out['image'], s['image'].flip(-1))
    assert out['boxes'].tolist() == mask_boxes(out['masks']).tolist() == [[46, 5, 56, 30], [2, 10, 20, 38]]
    assert out['image_id'] == 7 and torch.equal(out['labels'], s['labels'])


@pytest.mark.parametrize('scale', [0.6, 1.6])
def test_zoom_keeps_the_size_and_the_pixels_under_their_masks(scale):
    torch.manual_seed(0)
    s = sample()
    out = augment(s, AugmentConfig(flip=0.0, scale_range=(scale, scale), brightness=0, contrast=0, saturation=0))
    assert out['image'].shape == s['image'].shape and out['masks'].shape[1:] == s['masks'].shape[1:]
    assert out['crowd'].shape == s['crowd'].shape
    assert torch.equal(out['boxes'], mask_boxes(out['masks']))
    assert len(out['masks']) == len(out['labels']) >= 1
    if scale < 1:                        # zoomed out: everybody stays, smaller, on a black border
        area = s['masks'].flatten(1).sum(1).float()
        assert torch.allclose(out['masks'].flatten(1).sum(1).float(), area * scale ** 2, rtol=0.25)
        assert (out['image'].sum(0) == 0).any()
    first = out['masks'][0] if out['labels'][0] == 1 else None
    if first is not None:                # the white person's pixels went with its mask (inner pixels: no blending)
        inner = -torch.nn.functional.max_pool2d(-first[None, None].float(), 3, 1, 1)[0, 0] > 0.5   # eroded
        assert out['image'][:, inner].min() > 0.95


def test_people_cut_away_by_a_zoom_are_dropped_with_their_labels():
    s = sample()
    dropped = 0
    for seed in range(20):
        out = augment(s, AugmentConfig(flip=0.0, scale_range=(3.0, 3.0)), torch.Generator().manual_seed(seed))
        assert len(out['masks']) == len(out['labels']) == len(out['boxes'])
        assert out['masks'].flatten(1).any(1).all()
        dropped += len(out['masks']) < 2
    assert dropped > 0


def test_colour_jitter_stays_in_range_and_changes_the_image_only():
    s = sample()
    out = augment(s, AugmentConfig(flip=0.0, scale_range=(1.0, 1.0), brightness=0.5, contrast=0.5, saturation=0.5),
                  torch.Generator().manual_seed(3))
    assert 0 <= out['image'].min() and out['image'].max() <= 1 and not torch.equal(out['image'], s['image'])
    assert torch.equal(out['masks'], s['masks'])


@pytest.mark.parametrize('bad', [dict(flip=1.5), dict(scale_range=(1.2, 0.8)), dict(scale_range=(0, 1)),
                                 dict(brightness=1.0), dict(saturation=-0.1)])
def test_config_refuses_bad_values(bad):
    with pytest.raises(ValueError):
        AugmentConfig(**bad)


def test_dataset_is_reproducible_under_a_seed():
    data = [sample(), sample()]
    torch.manual_seed(5)
    first = AugmentedDataset(data)[1]
    torch.manual_seed(5)
    again = AugmentedDataset(data)[1]
    assert len(AugmentedDataset(data)) == 2
    assert torch.equal(first['image'], again['image']) and torch.equal(first['masks'], again['masks'])
