"""Forward contract, input checking and the box-based convenience API."""
import pytest
import torch

from rhis_plugin.models import build_rhis, combine_hierarchical_logits
from rhis_plugin.postprocess import PostprocessConfig


@pytest.fixture(scope='module')
def model():
    return build_rhis('rhis_b0_64x48').eval()


def test_combination_matches_reference_formula():
    bgfg, tnt = torch.randn(4, 2, 8, 6), torch.randn(4, 2, 8, 6)
    z = combine_hierarchical_logits(bgfg, tnt)
    p_fg = torch.softmax(bgfg, 1)[:, 1]
    assert torch.allclose(z[:, 0], bgfg[:, 0])
    assert torch.allclose(z[:, 1], bgfg[:, 1] + tnt[:, 0] * p_fg, atol=1e-6)    # sigmoid(fg - bg) == softmax[fg]
    assert torch.allclose(z[:, 2], bgfg[:, 1] + tnt[:, 1] * p_fg, atol=1e-6)


def test_zero_rois_give_empty_outputs(model):
    with torch.no_grad():
        out = model(torch.rand(2, 3, 120, 160), torch.zeros(0, 5))
    assert out['masks'].shape == (0, 3, 128, 96)
    assert out['binary_masks'].shape == (2, 1, 120, 160)


def test_boxes_outside_the_image_are_clipped(model):
    images = torch.rand(1, 3, 96, 128)
    with torch.no_grad():
        inside = model(images, torch.tensor([[0, 0.0, 0.2, 0.5, 1.0]]))['masks']
        outside = model(images, torch.tensor([[0, -0.4, 0.2, 0.5, 1.7]]))['masks']
    assert torch.allclose(inside, outside)


@pytest.mark.parametrize('rois, message', [
    (torch.tensor([[0, 0.5, 0.1, 0.2, 0.9]]), 'x2 >= x1'),
    (torch.tensor([[0, 0.1, 0.1, float('nan'), 0.9]]), 'NaN or inf'),
    (torch.tensor([[0, 0.1, 0.1, float('inf'), 0.9]]), 'NaN or inf'),
    (torch.tensor([[2, 0.1, 0.1, 0.5, 0.9]]), r'batch_idx must be an integer in \[0, 1\]'),
    (torch.tensor([[0.5, 0.1, 0.1, 0.5, 0.9]]), 'batch_idx'),
    (torch.tensor([[0, 10.0, 10.0, 50.0, 90.0]]), 'normalised'),
    (torch.tensor([[0, 1, 1, 2, 2]]), 'float tensor'),
    (torch.zeros(3, 4), r'\[N, 5\]'),
    ([[0, 0.1, 0.1, 0.5, 0.9]], 'torch.Tensor'),
])
def test_bad_rois_raise_value_error(model, rois, message):
    with pytest.raises(ValueError, match=message):
        model(torch.rand(2, 3, 64, 64), rois)


@pytest.mark.parametrize('images, message', [
    (torch.randint(0, 255, (1, 3, 64, 64), dtype=torch.uint8), 'float tensor'),
    (torch.rand(3, 64, 64), r'\[B, 3, H, W\]'),
    (torch.rand(1, 4, 64, 64), r'\[B, 3, H, W\]'),
    (torch.rand(0, 3, 64, 64), 'at least one'),
])
def test_bad_images_raise_value_error(model, images, message):
    with pytest.raises(ValueError, match=message):
        model(images, torch.zeros(0, 5))


def test_predict_with_pixel_boxes(model):
    images = torch.rand(2, 3, 90, 120)
    boxes = [torch.tensor([[10.0, 5.0, 60.0, 85.0], [50.0, 0.0, 130.0, 70.0]]), torch.zeros(0, 4)]
    results = model.predict(images, boxes, PostprocessConfig(threshold=0.3))
    assert len(results) == 2
    assert results[0].masks.shape == (2, 90, 120) and results[0].masks.dtype == torch.bool
    assert results[1].masks.shape == (0, 90, 120) and results[1].scores.shape == (0,)
    # Masks stay inside their (clipped) boxes.
    assert not results[0].masks[0, :, 60:].any() and not results[0].masks[0, :, :10].any()
    with pytest.raises(ValueError, match='2 images'):
        model.predict(images, boxes[:1])
