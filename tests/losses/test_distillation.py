import pytest
import torch

from rhis_plugin.losses import FeatureMatching, binary_kd_loss, softmax_kd_loss


@pytest.mark.parametrize('temperature', [1.0, 4.0, 10.0])
def test_kd_losses_vanish_when_student_equals_teacher(temperature):
    logits = torch.randn(2, 1, 8, 8) * 3
    assert binary_kd_loss(logits, logits.clone(), temperature).item() == pytest.approx(0.0, abs=1e-6)
    logits3 = torch.randn(4, 3, 8, 6) * 3
    assert softmax_kd_loss(logits3, logits3.clone(), temperature).item() == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize('loss_fn, channels', [(binary_kd_loss, 1), (softmax_kd_loss, 3)])
def test_kd_gradient_reaches_the_student_only(loss_fn, channels):
    student = torch.randn(2, channels, 6, 6, requires_grad=True)
    teacher = torch.randn(2, channels, 6, 6, requires_grad=True)
    loss = loss_fn(student, teacher, 4.0)
    assert loss.item() > 0
    loss.backward()
    assert student.grad is not None and student.grad.abs().sum() > 0
    assert teacher.grad is None


def test_kd_keeps_gradient_scale_with_temperature():
    """The T^2 factor keeps the soft-target gradient from shrinking as 1/T^2 (Hinton et al.)."""
    torch.manual_seed(0)
    teacher = torch.randn(1, 3, 16, 16)
    grads = []
    for temperature in (2.0, 8.0):
        student = (teacher + 0.5 * torch.randn_like(teacher)).requires_grad_(True)
        torch.manual_seed(0)
        softmax_kd_loss(student, teacher, temperature).backward()
        grads.append(student.grad.abs().mean().item())
    # Without T^2 the ratio would be about 16; with it the gradient decays only as 1/T.
    assert grads[0] / grads[1] < 8


def test_binary_kd_matches_the_definition():
    s, t, temp = torch.tensor([0.3, -1.0]), torch.tensor([2.0, -0.5]), 2.0
    p, q = torch.sigmoid(t / temp), torch.sigmoid(s / temp)
    expected = temp ** 2 * (p * (p / q).log() + (1 - p) * ((1 - p) / (1 - q)).log()).mean()
    assert binary_kd_loss(s, t, temp).item() == pytest.approx(expected.item(), rel=1e-5)


def test_feature_matching_resizes_and_trains_adapters_only():
    fm = FeatureMatching([8, 4], [16, 4])
    student = [torch.randn(2, 8, 6, 6, requires_grad=True), torch.randn(2, 4, 12, 12, requires_grad=True)]
    teacher = [torch.randn(2, 16, 12, 12, requires_grad=True), torch.randn(2, 4, 12, 12, requires_grad=True)]
    fm(student, teacher).backward()
    assert all(s.grad is not None for s in student) and all(t.grad is None for t in teacher)
    assert fm.adapters[0].weight.grad is not None
    with pytest.raises(ValueError):
        FeatureMatching([8], [16, 4])
    with pytest.raises(ValueError, match='shape'):
        binary_kd_loss(torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 4, 5), 2.0)
