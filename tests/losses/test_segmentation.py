import pytest
import torch

from rhis_plugin.losses import (PeopleSegLoss, PeopleSegLossConfig, boundary_loss, dice_loss, generalized_dice_loss,
                                signed_distance, tversky_loss)

REGION = {'dice': dice_loss, 'tversky': tversky_loss, 'gdl': generalized_dice_loss}


def square_target(size=24):
    target = torch.zeros(2, 1, size, size)
    target[0, :, 6:18, 4:14] = 1
    target[1, :, 2:9, 10:22] = 1
    return target


@pytest.mark.parametrize('name', sorted(REGION))
def test_region_losses_are_zero_for_a_perfect_prediction_and_push_toward_the_target(name):
    loss_fn = REGION[name]
    target = square_target()
    perfect = (target * 2 - 1) * 40
    assert loss_fn(perfect, target).item() == pytest.approx(0.0, abs=1e-3)
    assert loss_fn(-perfect, target).item() > 0.9
    logits = torch.zeros_like(target, requires_grad=True)
    loss_fn(logits, target).backward()
    # Gradient descent raises logits on the person and lowers them on the background.
    assert (logits.grad[target > 0] < 0).all() and (logits.grad[target == 0] > 0).all()


def test_tversky_weighs_false_negatives_more_with_beta_above_alpha():
    target = square_target()
    missed = torch.where(target > 0, -40.0, -40.0)          # predicts nothing: all false negatives
    extra = torch.full_like(target, 40.0)                     # predicts everything: all false positives
    assert tversky_loss(missed, target, alpha=0.3, beta=0.7) > tversky_loss(extra, target, alpha=0.3, beta=0.7)


def test_boundary_loss_zero_when_perfect_and_grows_with_distance_from_the_border():
    target = square_target(32)
    sdm = signed_distance(target[:, 0] > 0)[:, None]
    perfect = (target * 2 - 1) * 40
    assert boundary_loss(perfect, sdm).item() == pytest.approx(0.0, abs=1e-6)
    near = target.clone()
    near[0, :, 5, 4:14] = 1                                   # one extra row next to the person
    far = target.clone()
    far[0, :, 30, 4:14] = 1                                   # the same number of pixels far away
    assert boundary_loss((far * 2 - 1) * 40, sdm) > boundary_loss((near * 2 - 1) * 40, sdm) > 0
    logits = torch.zeros_like(target, requires_grad=True)
    boundary_loss(logits, sdm).backward()
    assert (logits.grad[sdm > 0] <= 0).all() and (logits.grad[sdm < 0] >= 0).all()


def test_valid_mask_excludes_pixels():
    target = square_target()
    logits = (target * 2 - 1) * 40
    logits[:, :, :, :2] = 40.0                                # wrong, but outside the valid region
    valid = torch.ones_like(target)
    valid[:, :, :, :2] = 0
    assert dice_loss(logits, target, valid).item() == pytest.approx(0.0, abs=1e-3)


def test_peopleseg_loss_terms_and_boundary_switch():
    target = square_target()
    sdm = signed_distance(target[:, 0] > 0)[:, None]
    loss = PeopleSegLoss(PeopleSegLossConfig(region='gdl'))
    logits = torch.randn_like(target)
    assert set(loss(logits, target)) == {'loss_bce', 'loss_gdl'}
    loss.boundary_weight = 0.05
    out = loss(logits, target, signed_distance=sdm)
    assert set(out) == {'loss_bce', 'loss_gdl', 'loss_boundary'}
    assert out['loss_boundary'] == pytest.approx(0.05 * boundary_loss(logits, sdm).item(), rel=1e-5)
    with pytest.raises(ValueError, match='signed distance'):
        loss(logits, target)
    with pytest.raises(ValueError, match='region'):
        PeopleSegLossConfig(region='focal')
