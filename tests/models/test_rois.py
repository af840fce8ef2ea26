import torch

from rhis_plugin.models import boxes_to_rois, clip_rois, rois_to_pixels


def test_boxes_to_rois_round_trip():
    boxes = [torch.tensor([[10.0, 20.0, 30.0, 40.0]]), torch.zeros(0, 4), torch.tensor([[0.0, 0.0, 160.0, 120.0]])]
    rois = boxes_to_rois(boxes, height=120, width=160)
    assert rois[:, 0].tolist() == [0.0, 2.0]
    assert torch.allclose(rois_to_pixels(rois, 120, 160)[:, 1:], torch.cat([boxes[0], boxes[2]]))


def test_clip_rois():
    clipped = clip_rois(torch.tensor([[1.0, -0.2, 0.5, 1.3, 0.7]]))
    assert torch.allclose(clipped, torch.tensor([[1.0, 0.0, 0.5, 1.0, 0.7]]))
