import pytest
import torch

from rhis_plugin.training import build_roi_targets, jitter_boxes


def two_people():
    masks = torch.zeros(2, 40, 60, dtype=torch.bool)
    masks[0, 5:35, 10:25] = True     # person A
    masks[1, 10:38, 22:40] = True    # person B, in front of A's right side
    masks[0] &= ~masks[1]            # visible masks, as in COCO
    return masks


def test_occluding_second_person_is_class_2():
    masks = two_people()
    rois = torch.tensor([[0, 10.0, 5.0, 25.0, 35.0], [0, 22.0, 10.0, 40.0, 38.0]])
    targets = build_roi_targets([masks], rois, torch.tensor([0, 1]), (30, 15))
    a, b = targets
    assert (a == 1).float().mean() > 0.7           # A fills most of its own box
    assert (a == 2).any()                          # B's pixels inside A's box
    assert (b == 1).float().mean() > 0.9 and not (b == 2).any()   # A has no pixel inside B's box


def test_same_grid_as_roi_align_crop():
    # Each target cell is the mask sampled at the cell centre: a box twice the mask size maps 2x2 -> 1.
    masks = torch.zeros(1, 8, 8, dtype=torch.bool)
    masks[0, 2:6, 2:6] = True
    targets = build_roi_targets([masks], torch.tensor([[0, 0.0, 0.0, 8.0, 8.0]]), torch.tensor([0]), (4, 4))
    expected = torch.zeros(4, 4, dtype=torch.long)
    expected[1:3, 1:3] = 1
    assert torch.equal(targets[0], expected)


def test_multiple_images_and_errors():
    masks = two_people()
    rois = torch.tensor([[1, 10.0, 5.0, 25.0, 35.0]])
    targets = build_roi_targets([masks[:0], masks], rois, torch.tensor([1]), (16, 8))
    assert targets.shape == (1, 16, 8) and (targets == 2).any()   # A is the "other" person now
    with pytest.raises(ValueError, match='out of range'):
        build_roi_targets([masks], torch.tensor([[0, 1.0, 1.0, 5.0, 5.0]]), torch.tensor([2]), (4, 4))
    with pytest.raises(ValueError, match='no instance masks'):
        build_roi_targets([masks[:0]], torch.tensor([[0, 1.0, 1.0, 5.0, 5.0]]), torch.tensor([0]), (4, 4))


def test_jitter_boxes_stays_valid_and_is_random():
    boxes = torch.tensor([[10.0, 10.0, 50.0, 90.0], [0.0, 0.0, 3.0, 2.0], [90.0, 70.0, 100.0, 80.0]])
    g = torch.Generator().manual_seed(0)
    jittered = jitter_boxes(boxes, (80, 100), 0.2, 0.1, g)
    assert jittered.shape == boxes.shape and not torch.equal(jittered, boxes)
    assert (jittered[:, 2:] - jittered[:, :2] >= 1 - 1e-6).all()
    assert (jittered >= 0).all() and (jittered[:, [0, 2]] <= 100).all() and (jittered[:, [1, 3]] <= 80).all()
    clipped = boxes.clone()
    clipped[0, 3] = 80.0
    assert torch.equal(jitter_boxes(boxes, (80, 100), 0.0, 0.0), clipped)


def test_match_proposals_keeps_overlapping_boxes_with_their_gt():
    from rhis_plugin.training import match_proposals
    gt = torch.tensor([[0.0, 0.0, 10.0, 10.0], [20.0, 20.0, 30.0, 30.0]])
    proposals = torch.tensor([[21.0, 20.0, 30.0, 31.0], [0.0, 0.0, 4.0, 4.0], [1.0, 0.0, 10.0, 10.0]])
    boxes, index = match_proposals(proposals, gt, limit=5)
    assert torch.equal(boxes, proposals[[0, 2]]) and index.tolist() == [1, 0]
    assert len(match_proposals(proposals, gt, limit=1)[0]) == 1
    empty_boxes, empty_index = match_proposals(torch.zeros(0, 4), gt, limit=5)
    assert empty_boxes.shape == (0, 4) and empty_index.dtype == torch.long and len(empty_index) == 0
