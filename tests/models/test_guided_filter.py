import numpy as np
import pytest
import torch

from rhis_plugin.models.guided_filter import LearnableGuidedFilter
from rhis_plugin.postprocess import gaussian_smooth, guided_filter


def step_scene(size=32):
    """A bright right half (the person) on a dark left half, and a blurred version of its mask."""
    image = torch.full((1, 3, size, size), 0.1)
    image[..., size // 2:] = 0.9
    mask = torch.zeros(1, 1, size, size)
    mask[..., size // 2:] = 1.0
    return image, mask, gaussian_smooth(mask, 2.5)


def edge_jump(x, size=32):
    return float((x[..., size // 2] - x[..., size // 2 - 1]).mean())


def test_starts_as_the_classic_filter_keeps_constants_and_sharpens_edges():
    torch.manual_seed(0)
    gf = LearnableGuidedFilter(radii=(2,), eps=1e-4).eval()
    image, _, blurred = step_scene()
    with torch.no_grad():
        assert torch.allclose(gf(image, blurred), guided_filter(image, blurred, 2, 1e-4).clamp(0, 1), atol=1e-5)
        constant = torch.full_like(blurred, 0.4)
        assert torch.allclose(gf(torch.rand_like(image), constant), constant, atol=1e-4)
        assert edge_jump(gf(image, blurred)) > edge_jump(blurred) + 0.2


def test_training_moves_eps_radius_and_guide_toward_the_edge():
    torch.manual_seed(0)
    gf = LearnableGuidedFilter(radii=(1, 4), eps=0.1)
    image, mask, blurred = step_scene()
    optimizer = torch.optim.Adam(gf.parameters(), lr=0.05)
    before = torch.nn.functional.binary_cross_entropy(gf(image, blurred).clamp(1e-6, 1 - 1e-6), mask).item()
    for _ in range(40):
        loss = torch.nn.functional.binary_cross_entropy(gf(image, blurred).clamp(1e-6, 1 - 1e-6), mask)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < before
    assert gf.log_eps.grad is not None and gf.radius_logits.grad is not None
    with pytest.raises(ValueError):
        LearnableGuidedFilter(radii=())


@pytest.mark.parametrize('learnable', [True, False])
def test_onnx_export_matches_pytorch_at_other_sizes(tmp_path, learnable):
    import onnxruntime as ort

    from rhis_plugin.deploy import FixedGuidedFilter, export_refiner_onnx
    torch.manual_seed(0)
    refiner = LearnableGuidedFilter(radii=(2, 4)) if learnable else FixedGuidedFilter(radius=3, eps=1e-3)
    if learnable:
        torch.nn.init.normal_(refiner.guide_net[-1].weight, std=0.1)     # a non-trivial guidance network
    path = export_refiner_onnx(refiner, tmp_path / 'refiner.onnx', image_size=(24, 40))
    session = ort.InferenceSession(str(path), providers=['CPUExecutionProvider'])
    images, masks = torch.rand(2, 3, 36, 52), torch.rand(2, 1, 36, 52)
    (onnx_out,) = session.run(None, {'images': images.numpy(), 'masks': masks.numpy()})
    with torch.no_grad():
        expected = refiner.eval()(images, masks).numpy()
    np.testing.assert_allclose(onnx_out, expected, atol=1e-4)
