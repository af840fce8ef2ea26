import torch

from rhis_plugin.postprocess import dilate, gaussian_smooth, guided_filter


def test_guided_filter_keeps_constants_and_follows_guide_edges():
    constant = torch.full((1, 1, 20, 20), 0.3)
    guide = torch.rand(1, 3, 20, 20)
    assert torch.allclose(guided_filter(guide, constant, 3), constant, atol=1e-5)
    # A blurred step in the mask becomes sharper where the guide has a step edge.
    step = torch.zeros(1, 1, 20, 20)
    step[..., 10:] = 1.0
    blurred = gaussian_smooth(step, 2.0)
    refined = guided_filter(step.expand(1, 3, 20, 20), blurred, radius=2, eps=1e-4)
    jump = lambda x: float((x[..., 10] - x[..., 9]).mean())  # noqa: E731
    assert jump(refined) > jump(blurred) + 0.2


def test_dilate_and_gaussian():
    mask = torch.zeros(1, 7, 7, dtype=torch.bool)
    mask[0, 3, 3] = True
    assert dilate(mask, 1).sum() == 9 and dilate(mask, 0) is mask
    spike = torch.zeros(1, 1, 15, 15)
    spike[..., 7, 7] = 1.0
    blurred = gaussian_smooth(spike, 1.0)
    assert torch.isclose(blurred.sum(), torch.tensor(1.0), atol=1e-4) and blurred.max() < 1


def test_fast_guided_filter_approximates_the_exact_one_and_keeps_constants():
    from rhis_plugin.postprocess import fast_guided_filter
    guide = gaussian_smooth(torch.rand(1, 3, 64, 64), 2.0)
    src = gaussian_smooth(torch.rand(1, 1, 64, 64), 3.0)
    exact = guided_filter(guide, src, radius=8, eps=1e-2)
    fast = fast_guided_filter(guide, src, radius=8, eps=1e-2, subsample=4)
    assert (fast - exact).abs().mean() < 0.02
    constant = torch.full((1, 1, 64, 64), 0.7)
    assert torch.allclose(fast_guided_filter(guide, constant, 8, 1e-2, 4), constant, atol=1e-4)
    assert torch.equal(fast_guided_filter(guide, src, 4, 1e-2, 1), guided_filter(guide, src, 4, 1e-2))
