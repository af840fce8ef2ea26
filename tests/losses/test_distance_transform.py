import importlib.util
import math

import pytest
import torch

from rhis_plugin.losses import distance_to_mask, signed_distance


def brute_force(mask: torch.Tensor) -> torch.Tensor:
    ys, xs = torch.nonzero(mask, as_tuple=True)
    grid_y, grid_x = torch.meshgrid(torch.arange(mask.shape[0]), torch.arange(mask.shape[1]), indexing='ij')
    d2 = (grid_y[..., None] - ys) ** 2 + (grid_x[..., None] - xs) ** 2
    return d2.min(-1).values.float().sqrt()


BACKENDS = ['torch', pytest.param('opencv', marks=pytest.mark.skipif(not importlib.util.find_spec('cv2'),
                                                                    reason='OpenCV not installed'))]


@pytest.mark.parametrize('backend', BACKENDS)
def test_matches_brute_force_on_random_masks(backend):
    g = torch.Generator().manual_seed(0)
    masks = torch.rand(3, 13, 17, generator=g) > 0.93
    masks[0, 6, 8] = True
    result = distance_to_mask(masks, backend)
    for mask, dist in zip(masks, result):
        assert torch.allclose(dist, brute_force(mask), atol=1e-5)


@pytest.mark.parametrize('backend', BACKENDS)
def test_point_and_empty(backend):
    mask = torch.zeros(1, 9, 9, dtype=torch.bool)
    mask[0, 4, 4] = True
    dist = distance_to_mask(mask, backend)[0]
    assert dist[4, 4] == 0 and math.isclose(float(dist[0, 0]), math.sqrt(32), rel_tol=1e-6)
    assert (distance_to_mask(torch.zeros(1, 5, 6, dtype=torch.bool), backend) == 11).all()
    with pytest.raises(ValueError, match="backend must be 'auto', 'torch' or 'opencv'"):
        distance_to_mask(mask, 'scipy')


@pytest.mark.parametrize('backend', BACKENDS)
def test_signed_distance_sign_and_border(backend):
    mask = torch.zeros(1, 11, 11, dtype=torch.bool)
    mask[0, 3:8, 3:8] = True
    sd = signed_distance(mask, backend)[0]
    assert (sd[mask[0]] > 0).all() and (sd[~mask[0]] < 0).all()
    assert sd[5, 5] == 3 and sd[3, 5] == 1 and sd[2, 5] == -1 and sd[0, 5] == -3


def test_the_backends_agree_at_mask_size():
    masks = torch.zeros(4, 128, 96, dtype=torch.bool)
    masks[0, 20:100, 30:70] = True
    masks[1, 5, 5] = True
    masks[2] = torch.rand(128, 96, generator=torch.Generator().manual_seed(1)) > 0.99
    expected = signed_distance(masks, 'torch')
    pytest.importorskip('cv2')
    assert torch.allclose(signed_distance(masks, 'opencv'), expected, atol=1e-3)
