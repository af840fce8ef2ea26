import math

import torch

from rhis_plugin.losses import distance_to_mask, signed_distance


def brute_force(mask: torch.Tensor) -> torch.Tensor:
    ys, xs = torch.nonzero(mask, as_tuple=True)
    grid_y, grid_x = torch.meshgrid(torch.arange(mask.shape[0]), torch.arange(mask.shape[1]), indexing='ij')
    d2 = (grid_y[..., None] - ys) ** 2 + (grid_x[..., None] - xs) ** 2
    return d2.min(-1).values.float().sqrt()


def test_matches_brute_force_on_random_masks():
    g = torch.Generator().manual_seed(0)
    masks = torch.rand(3, 13, 17, generator=g) > 0.93
    masks[0, 6, 8] = True
    result = distance_to_mask(masks)
    for mask, dist in zip(masks, result):
        assert torch.allclose(dist, brute_force(mask), atol=1e-5)


def test_point_and_empty():
    mask = torch.zeros(1, 9, 9, dtype=torch.bool)
    mask[0, 4, 4] = True
    dist = distance_to_mask(mask)[0]
    assert dist[4, 4] == 0 and math.isclose(float(dist[0, 0]), math.sqrt(32), rel_tol=1e-6)
    assert (distance_to_mask(torch.zeros(1, 5, 6, dtype=torch.bool)) == 11).all()


def test_signed_distance_sign_and_border():
    mask = torch.zeros(1, 11, 11, dtype=torch.bool)
    mask[0, 3:8, 3:8] = True
    sd = signed_distance(mask)[0]
    assert (sd[mask[0]] > 0).all() and (sd[~mask[0]] < 0).all()
    assert sd[5, 5] == 3 and sd[3, 5] == 1 and sd[2, 5] == -1 and sd[0, 5] == -3
