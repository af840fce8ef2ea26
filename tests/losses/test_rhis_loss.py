import pytest
import torch

from rhis_plugin.losses import RHISLoss, RHISLossConfig
from rhis_plugin.models import build_rhis

TERMS = {'loss_bgfg', 'loss_tnt', 'loss_ce', 'loss_dice', 'loss_consistency', 'loss_boundary', 'loss_contour',
         'loss_distance'}


def make_targets(n=3, h=16, w=12):
    targets = torch.zeros(n, h, w, dtype=torch.long)
    targets[:, 3:13, 2:7] = 1
    targets[:, 5:15, 7:11] = 2
    return targets


def perfect_outputs(targets, scale=30.0):
    """Logits that agree with the targets, built through the model's own combination."""
    from rhis_plugin.losses.distance_transform import signed_distance
    from rhis_plugin.losses.rhis_loss import _band
    fg = (targets > 0).float()
    bgfg = torch.stack([1 - fg, fg], 1) * scale
    tnt = torch.stack([(targets == 1).float(), (targets == 2).float()], 1) * scale
    from rhis_plugin.models import combine_hierarchical_logits
    contour = _band((targets == 1).long(), 2, 1).float()
    return {'masks': combine_hierarchical_logits(bgfg, tnt), 'bgfg_logits': bgfg, 'tnt_logits': tnt,
            'contour_logits': ((contour * 2 - 1) * scale)[:, None],
            'distance': (signed_distance(targets == 1).clamp(-10, 10) / 10)[:, None]}


def random_outputs(targets, requires_grad=True):
    n, h, w = targets.shape
    shapes = {'masks': 3, 'bgfg_logits': 2, 'tnt_logits': 2, 'contour_logits': 1, 'distance': 1}
    return {k: torch.randn(n, c, h, w, requires_grad=requires_grad) for k, c in shapes.items()}


def test_every_term_is_reported_finite_and_positive():
    targets = make_targets()
    losses = RHISLoss()(random_outputs(targets), targets)
    assert set(losses) == TERMS
    for name, value in losses.items():
        assert value.ndim == 0 and torch.isfinite(value) and value > 0, name


def test_perfect_prediction_gives_near_zero_losses():
    targets = make_targets()
    losses = RHISLoss()(perfect_outputs(targets), targets)
    for name, value in losses.items():
        assert value < 1e-3, (name, float(value))
    exact = RHISLoss()(perfect_outputs(targets), targets)
    assert exact['loss_distance'] == 0 and exact['loss_consistency'] < 1e-10


def test_gradients_lower_the_loss():
    targets = make_targets()
    outputs = random_outputs(targets)
    loss_fn = RHISLoss()
    before = sum(loss_fn(outputs, targets).values())
    before.backward()
    stepped = {k: (v - 0.5 * v.grad).detach() for k, v in outputs.items()}
    assert sum(loss_fn(stepped, targets).values()) < before
    assert all(v.grad is not None and v.grad.abs().sum() > 0 for v in outputs.values())


def test_weights_scale_terms_and_zero_weights_skip_them():
    targets = make_targets()
    outputs = random_outputs(targets, requires_grad=False)
    base = RHISLoss()(outputs, targets)
    doubled = RHISLoss(RHISLossConfig(dice=2.0, contour=0.0, distance=0.0))(outputs, targets)
    assert torch.isclose(doubled['loss_dice'], 2 * base['loss_dice'])
    assert 'loss_contour' not in doubled and 'loss_distance' not in doubled


def test_class_weight_options():
    targets = make_targets()
    outputs = random_outputs(targets, requires_grad=False)
    plain = RHISLoss(RHISLossConfig(ce_class_weights=None))(outputs, targets)['loss_ce']
    weighted = RHISLoss(RHISLossConfig(ce_class_weights='separation_aware'))(outputs, targets)['loss_ce']
    assert not torch.isclose(plain, weighted)
    fixed = RHISLoss(RHISLossConfig(bgfg_class_weights=(1.0, 1.0)))(outputs, targets)['loss_bgfg']
    none = RHISLoss(RHISLossConfig(bgfg_class_weights=None))(outputs, targets)['loss_bgfg']
    assert torch.isclose(fixed, none)
    with pytest.raises(ValueError):
        RHISLossConfig(ce_class_weights='balanced')
    with pytest.raises(ValueError):
        RHISLossConfig(dice=-1)


def test_no_foreground_and_no_rois():
    targets = torch.zeros(2, 8, 8, dtype=torch.long)
    losses = RHISLoss()(random_outputs(targets), targets)
    assert all(torch.isfinite(v) for v in losses.values()) and losses['loss_tnt'] == 0
    empty = torch.zeros(0, 8, 8, dtype=torch.long)
    outputs = random_outputs(empty)
    losses = RHISLoss()(outputs, empty)
    assert all(v == 0 for v in losses.values())
    sum(losses.values()).backward()          # still differentiable


def test_bad_targets_and_missing_outputs():
    targets = make_targets()
    outputs = random_outputs(targets, requires_grad=False)
    with pytest.raises(ValueError, match='torch.long'):
        RHISLoss()(outputs, targets.float())
    with pytest.raises(ValueError, match='class indices'):
        RHISLoss()(outputs, targets + 1)
    with pytest.raises(ValueError, match=r'\[N, mh, mw\]'):
        RHISLoss()(outputs, targets[:, :8])
    del outputs['contour_logits']
    with pytest.raises(ValueError, match='contour'):
        RHISLoss()(outputs, targets)


def test_works_on_model_outputs():
    model = build_rhis('rhis_b0_64x48', roi_size=(32, 32)).train()
    out = model(torch.rand(1, 3, 64, 64), torch.tensor([[0, 0.1, 0.1, 0.8, 0.9], [0, 0.3, 0.2, 0.9, 1.0]]))
    losses = RHISLoss()(out, make_targets(2, 64, 64))
    sum(losses.values()).backward()
    assert set(losses) == TERMS
