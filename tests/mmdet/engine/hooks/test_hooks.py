"""The training hooks against a minimal stand-in for mmengine's Runner (what each hook reads and writes)."""
import logging
from types import SimpleNamespace

import pytest
import torch
from mmengine.logging import MessageHub

from rhis_plugin.losses import PeopleSegLoss
from rhis_plugin.mmdet import BoundaryLossHook, DistillationScheduleHook, ProgressiveUnfreezeHook


def runner(model, **state):
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    return SimpleNamespace(model=model, message_hub=MessageHub.get_instance('rhis_hook_test'),
                           logger=logging.getLogger('rhis_hook_test'), optim_wrapper=optimizer, **state)


class Distiller(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.kd_temperature, self.kd_weight = 0.0, 0.0


def test_temperature_schedule_by_epoch_and_iteration():
    model = torch.nn.Sequential(Distiller())
    hook = DistillationScheduleHook(temperature=dict(start=10.0, end=1.0, kind='linear'),
                                    weight=dict(start=0.9, end=0.1, kind='linear'), by_epoch=True)
    seen = []
    for epoch in range(4):
        r = runner(model, epoch=epoch, max_epochs=4, iter=0, max_iters=1)
        hook.before_train_iter(r, 0)
        seen.append((model[0].kd_temperature, model[0].kd_weight))
    assert seen[0] == (10.0, 0.9) and seen[-1] == pytest.approx((1.0, 0.1))
    assert r.message_hub.get_scalar('train/kd_temperature').current() == 1.0
    hook = DistillationScheduleHook()          # cosine 10 -> 1 per iteration
    hook.before_train_iter(runner(model, iter=99, max_iters=100, epoch=0, max_epochs=1), 0)
    assert model[0].kd_temperature == pytest.approx(1.0)
    with pytest.raises(ValueError, match='distiller'):
        hook.before_train_iter(runner(torch.nn.Linear(1, 1), iter=0, max_iters=1, epoch=0, max_epochs=1), 0)


def test_boundary_hook_waits_for_a_plateau_then_ramps_and_drops_the_lr():
    loss = PeopleSegLoss()
    hook = BoundaryLossHook(patience=2, start_weight=0.01, step=0.01, lr_factor=0.1)
    r = runner(torch.nn.Sequential(loss))
    weights = []
    for iou in (0.50, 0.60, 0.6005, 0.59, 0.61, 0.62):     # plateau after the 4th validation
        hook.after_val_epoch(r, {'peopleseg/iou': iou})
        hook.before_train_iter(r, 0)
        weights.append(loss.boundary_weight)
    assert weights == pytest.approx([0.0, 0.0, 0.0, 0.01, 0.02, 0.03])
    assert r.optim_wrapper.param_groups[0]['lr'] == pytest.approx(0.1)
    checkpoint = {}
    hook.before_save_checkpoint(r, checkpoint)
    resumed = BoundaryLossHook()
    resumed.after_load_checkpoint(r, checkpoint)
    assert resumed.weight == pytest.approx(0.03)
    with pytest.raises(KeyError, match='peopleseg/iou'):
        BoundaryLossHook().after_val_epoch(r, {'coco/segm_mAP': 0.1})


def test_progressive_unfreezing_adds_one_stage_every_few_epochs():
    from rhis_plugin.mmdet import PeopleSegmentor
    model = PeopleSegmentor(encoder='mobilenetv3_small_075')
    total = len(model.unet.encoder_stages())
    hook = ProgressiveUnfreezeHook(start=2, every=2)
    counts, first_trains, last_trains = [], [], []
    for epoch in range(2 + 2 * total + 2):
        hook.before_train_iter(runner(model, epoch=epoch, iter=0), 0)
        stages = model.unet.encoder_stages()
        counts.append(model.trainable_encoder_stages)
        first_trains.append(any(p.requires_grad for p in stages[0].parameters()))
        last_trains.append(any(p.requires_grad for p in stages[-1].parameters()))
    assert counts[:5] == [0, 0, 1, 1, 2] and counts[-1] == total
    assert last_trains[:3] == [False, False, True] and not first_trains[2] and first_trains[-1]
    assert all(p.requires_grad for p in model.unet.encoder.parameters())
    assert all(p.requires_grad for p in model.unet.decoder.parameters())
