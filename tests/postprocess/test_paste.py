import pytest
import torch
from torchvision.ops import roi_align

from rhis_plugin.postprocess import PostprocessConfig, paste_masks, union_person_mask


def test_paste_then_crop_round_trips():
    probs = torch.zeros(1, 32, 24)
    probs[0, 6:26, 4:20] = 1.0
    box = torch.tensor([[20.0, 10.0, 68.0, 74.0]])      # 48 x 64 px = 2x the mask size
    pasted = paste_masks(probs, box, (100, 120), PostprocessConfig(exclusive=False))
    assert pasted.masks.shape == (1, 100, 120)
    recropped = roi_align(pasted.masks[None].float(), torch.cat([torch.zeros(1, 1), box], 1), (32, 24),
                          spatial_scale=1.0, sampling_ratio=2, aligned=True)[0, 0]
    assert torch.equal(recropped > 0.5, probs[0] > 0.5)
    assert pasted.masks.sum() == 20 * 16 * 4 and 0.9 < pasted.scores[0] <= 1.0


def test_boxes_partly_outside_and_degenerate():
    probs = torch.ones(4, 8, 8)
    boxes = torch.tensor([[-10.0, -10.0, 10.0, 10.0], [30.0, 30.0, 30.2, 30.2], [5.0, 5.0, 5.0, 9.0],
                          [200.0, 200.0, 220.0, 220.0]])
    pasted = paste_masks(probs, boxes, (40, 50))
    assert pasted.masks[0].sum() == 100 and pasted.masks[0, :10, :10].all()
    assert not pasted.masks[1:].any()           # sub-pixel box without a pixel centre, zero width, outside
    assert pasted.scores[1:].eq(0).all()


def test_overlaps_go_to_the_most_confident_instance():
    probs = torch.stack([torch.full((8, 8), 0.9), torch.full((8, 8), 0.7)])
    boxes = torch.tensor([[0.0, 0.0, 20.0, 20.0], [10.0, 0.0, 30.0, 20.0]])
    exclusive = paste_masks(probs, boxes, (20, 30))
    assert not (exclusive.masks[0] & exclusive.masks[1]).any()
    assert exclusive.masks[0, :, 10:20].all() and exclusive.masks[1, :, 20:].all()
    shared = paste_masks(probs, boxes, (20, 30), PostprocessConfig(exclusive=False))
    assert (shared.masks[0] & shared.masks[1]).sum() == 200


def test_dilation_grows_and_smoothing_runs():
    probs = torch.zeros(1, 16, 16)
    probs[0, 4:12, 4:12] = 1.0
    box = torch.tensor([[10.0, 10.0, 42.0, 42.0]])
    plain = paste_masks(probs, box, (60, 60))
    grown = paste_masks(probs, box, (60, 60), PostprocessConfig(dilation=2))
    assert grown.masks.sum() == (16 + 4) ** 2 and (grown.masks | plain.masks).equal(grown.masks)
    image = torch.zeros(3, 60, 60)
    image[:, 18:34, 18:34] = 1.0
    guided = paste_masks(probs, box, (60, 60), PostprocessConfig(smoothing='guided', smooth_radius=2), image)
    gaussian = paste_masks(probs, box, (60, 60), PostprocessConfig(smoothing='gaussian', smooth_radius=2))
    assert guided.masks.sum() > 0 and gaussian.masks.sum() > 0
    with pytest.raises(ValueError, match='guide'):
        paste_masks(probs, box, (60, 60), PostprocessConfig(smoothing='guided'))


def test_config_and_shape_errors():
    with pytest.raises(ValueError, match='smoothing'):
        PostprocessConfig(smoothing='bilateral')
    with pytest.raises(ValueError, match='threshold'):
        PostprocessConfig(threshold=1.5)
    with pytest.raises(ValueError, match=r'\[N, 4\]'):
        paste_masks(torch.zeros(2, 4, 4), torch.zeros(3, 4), (10, 10))


def test_binary_mode_union_mask():
    probs = torch.zeros(1, 1, 10, 10)
    probs[..., 2:5, 2:5] = 0.9
    assert union_person_mask(probs).sum() == 9
    assert union_person_mask(probs, image_size=(20, 20)).shape == (1, 20, 20)
