"""The shared training loop saves its state and resumes an interrupted run where it stopped; the head's trainer takes a
teacher."""
import math

import pytest
import torch
from torch.utils.data import DataLoader

from rhis_plugin.training import Distillation, TrainConfig, optimise, train_rhis


class _Stop(Exception):
    pass


def _loop(cfg, model, stop_at=None, seen=None):
    data = DataLoader([{'x': torch.full((2,), float(i))} for i in range(8)], batch_size=2,
                      collate_fn=lambda items: torch.stack([i['x'] for i in items]))

    def loss_step(batch):
        seen.append(len(seen))
        if stop_at is not None and len(seen) > stop_at:
            raise _Stop
        return {'loss_fit': ((model(batch) - 1.0) ** 2).mean()}
    return optimise(list(model.parameters()), data, loss_step, cfg, log=lambda message: None, model=model)


def test_an_interrupted_run_resumes_from_its_last_state(tmp_path):
    state = tmp_path / 'run.train_state'
    cfg = TrainConfig(iters=6, lr=0.1, warmup_iters=1, log_every=1, checkpoint=str(state), checkpoint_every=2)
    torch.manual_seed(0)
    model = torch.nn.Linear(2, 1)
    seen: list[int] = []
    with pytest.raises(_Stop):
        _loop(cfg, model, stop_at=5, seen=seen)                  # killed during iteration 6
    assert state.is_file() and torch.load(state, weights_only=False)['iterations'] == 4
    torch.manual_seed(1)
    fresh, again = torch.nn.Linear(2, 1), []                    # a new process: other weights until resumed
    history = _loop(cfg, fresh, seen=again)
    assert len(again) == 2 and [h['iter'] for h in history] == [1, 2, 3, 4, 5, 6]
    assert not state.exists()                                    # complete: the state is gone
    with pytest.raises(ValueError, match='model'):
        optimise([], [], lambda batch: None, cfg)


def test_learning_curve_scores_its_points_once_and_keeps_those_of_an_interrupted_run(tmp_path):
    import json

    from rhis_plugin.training import LearningCurve

    path = tmp_path / 'metrics.json'
    path.write_text(json.dumps({'curve': {'2': {'iou': 0.1}}}))       # written before the run stopped
    calls: list[int] = []

    def score() -> dict:
        calls.append(1)
        return {'iou': 0.5 + len(calls)}

    curve = LearningCurve([2, 4], score, path)
    for step in range(1, 6):
        curve(step)
    assert calls == [1] and curve.points == {'2': {'iou': 0.1}, '4': {'iou': 1.5}}
    assert json.loads(path.read_text()) == {'curve': curve.points}


def test_amp_runs_the_loss_step_under_autocast_and_still_learns():
    torch.manual_seed(0)
    model, dtypes = torch.nn.Linear(2, 1), []
    data = DataLoader([torch.ones(2)] * 4, batch_size=2)

    def loss_step(batch):
        out = model(batch)
        dtypes.append(out.dtype)
        return {'loss_fit': ((out.float() - 3.0) ** 2).mean()}
    for amp in (False, True):
        cfg = TrainConfig(iters=30, lr=0.1, warmup_iters=1, log_every=1, amp=amp)
        history = optimise(list(model.parameters()), data, loss_step, cfg, log=lambda m: None)
        assert history[-1]['loss'] < 1.0
    assert dtypes[0] == torch.float32 and dtypes[-1] == torch.bfloat16       # CPU autocast: bfloat16


def test_a_teacher_adds_its_term_and_stays_frozen(tmp_path):
    from rhis_plugin.data import SceneConfig, coco_person_dataset, generate_dataset
    from rhis_plugin.models import build_rhis
    generate_dataset(tmp_path / 'data', 2, 0, SceneConfig(height=64, width=64))
    torch.manual_seed(0)
    student = build_rhis('rhislight_lite0_64x48', peopleseg_weights='random')
    teacher = build_rhis('rhis_lite0_64x48', roi_size=(32, 24), peopleseg_weights='random')   # another mask size
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    history = train_rhis(student, coco_person_dataset(tmp_path / 'data', (64, 64)), TrainConfig(iters=2, batch_size=2,
                         log_every=1), log=lambda message: None, distillation=Distillation(teacher, 0.5, 2.0))
    assert all('loss_kd' in entry and math.isfinite(entry['loss_kd']) for entry in history)
    assert not teacher.training and not any(p.requires_grad for p in teacher.parameters())
    assert all(torch.equal(before[k], v) for k, v in teacher.state_dict().items())
    with pytest.raises(ValueError, match='weight in'):
        Distillation(teacher, 1.5)
