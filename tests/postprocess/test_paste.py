import numpy as np
import pytest
import torch
from torchvision.ops import roi_align

from rhis_plugin.models import build_rhis
from rhis_plugin.postprocess import PostprocessConfig, RoIMasks, paste_masks


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


def test_roi_masks_paste_in_chunks_exactly_as_all_at_once():
    """Pasting a few at a time in score order gives the same exclusive masks as pasting all of them at once."""
    generator = torch.Generator().manual_seed(0)
    probs = torch.rand(7, 16, 12, generator=generator)
    xy = torch.rand(7, 2, generator=generator) * 30
    boxes = torch.cat([xy, xy + 10 + torch.rand(7, 2, generator=generator) * 20], dim=1)
    roi = RoIMasks(probs, boxes, (48, 52), torch.tensor([0.3, 0.9, 0.5, 0.7, 0.1, 0.8, 0.6]))
    whole = roi.paste().masks
    pieces = torch.zeros_like(whole)
    seen = []
    for indices, pasted in roi.iter_paste(chunk=3):
        assert len(indices) <= 3 and pasted.masks.dtype == torch.bool
        pieces[indices] = pasted.masks
        seen += indices.tolist()
    assert seen == [1, 5, 3, 6, 2, 0, 4]        # descending score
    assert torch.equal(pieces, whole) and whole.any()
    assert (whole.sum(0) <= 1).all()


def test_low_score_duplicate_never_takes_pixels_from_a_confident_detection():
    """A confident box and a 0.5-pixel-shifted duplicate with a low score and a slightly higher probability: the
    confident detection keeps its whole mask; the duplicate gets only what the confident one does not claim."""
    yy, xx = torch.meshgrid(torch.linspace(-1, 1, 32), torch.linspace(-1, 1, 24), indexing='ij')
    blob = (1.2 - (xx ** 2 + yy ** 2)).clamp(0, 1)
    probs = torch.stack([blob * 0.9, (blob * 0.95).clamp(max=1)])
    boxes = torch.tensor([[10.0, 8.0, 34.0, 40.0], [10.5, 8.5, 34.5, 40.5]])
    alone = paste_masks(probs[:1], boxes[:1], (50, 50)).masks[0]
    pasted = paste_masks(probs, boxes, (50, 50), scores=torch.tensor([0.9, 0.05])).masks
    assert alone.sum() > 100
    assert torch.equal(pasted[0], alone)
    assert not (pasted[0] & pasted[1]).any()
    # Without scores the probability decides, and the duplicate takes the contested pixels.
    unscored = paste_masks(probs, boxes, (50, 50)).masks
    assert unscored[0].sum() < alone.sum() / 2
    # Order of the boxes does not matter, only their scores.
    swapped = paste_masks(probs.flip(0), boxes.flip(0), (50, 50), scores=torch.tensor([0.05, 0.9])).masks
    assert torch.equal(swapped[1], alone)


def test_equal_scores_fall_back_to_probability():
    probs = torch.stack([torch.full((8, 8), 0.7), torch.full((8, 8), 0.9)])
    boxes = torch.tensor([[0.0, 0.0, 8.0, 8.0], [0.0, 0.0, 8.0, 8.0]])
    masks = paste_masks(probs, boxes, (8, 8), scores=torch.tensor([0.5, 0.5])).masks
    assert masks[1].all() and not masks[0].any()


def test_pytorch_predict_ranks_by_detection_score():
    torch.manual_seed(0)
    model = build_rhis('rhis_b0_64x48', aux_heads=False).eval()
    images = torch.rand(1, 3, 64, 64)
    boxes = [torch.tensor([[8.0, 4.0, 40.0, 60.0], [8.5, 4.5, 40.5, 60.5]])]
    cfg = PostprocessConfig(threshold=0.0)       # random weights: every pixel in the box is claimed
    confident_first = model.predict(images, boxes, cfg, scores=[torch.tensor([0.9, 0.01])])[0].masks
    alone = model.predict(images, [boxes[0][:1]], cfg)[0].masks[0]
    assert torch.equal(confident_first[0], alone)
    with pytest.raises(ValueError, match='score tensors'):
        model.predict(images, boxes, cfg, scores=[])


def test_exclusive_masks_give_each_pixel_to_the_highest_score():
    from rhis_plugin.postprocess import exclusive_masks
    masks = np.zeros((3, 4, 6), bool)
    masks[0, :, :4] = True       # low score
    masks[1, :, 2:] = True       # high score
    masks[2, 0, 0] = True        # covered by the low-score mask, same score as it: the earlier one keeps it
    out = exclusive_masks(masks, np.array([0.2, 0.9, 0.2]))
    assert out[1].sum() == masks[1].sum() and not out[0][:, 2:].any() and out[0][:, :2].all()
    assert not out[2].any() and not (out.sum(0) > 1).any() and masks[0].all(axis=0)[:4].all()  # input untouched
