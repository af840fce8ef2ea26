import numpy as np
import pytest

from rhis_plugin.training import SCHEDULE_KINDS, ValueSchedule


@pytest.mark.parametrize('kind', [k for k in SCHEDULE_KINDS if k != 'constant'])
@pytest.mark.parametrize('start, end', [(10.0, 1.0), (1.0, 4.0)])
def test_schedules_hit_both_ends_and_are_monotonic(kind, start, end):
    schedule = ValueSchedule(start, end, kind)
    assert schedule(0.0) == pytest.approx(start)
    assert schedule(1.0) == pytest.approx(end)
    values = np.array([schedule(p) for p in np.linspace(0, 1, 101)])
    steps = np.diff(values) * np.sign(end - start)
    assert (steps >= -1e-12).all()
    assert len(set(np.round(values, 9))) > 2          # it moves in between


def test_constant_clamping_and_validation():
    assert ValueSchedule(3.0, 1.0, 'constant')(0.7) == 3.0
    schedule = ValueSchedule(10.0, 1.0, 'linear')
    assert schedule(-1) == 10.0 and schedule(2) == 1.0
    assert ValueSchedule(10.0, 1.0, 'step', num_steps=4)(0.5) == pytest.approx(4.0)
    with pytest.raises(ValueError):
        ValueSchedule(0.0, 1.0, 'exponential')
    with pytest.raises(ValueError):
        ValueSchedule(10.0, 1.0, 'sigmoid')
