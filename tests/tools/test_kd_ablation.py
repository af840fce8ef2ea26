"""tools/kd_ablation.py on the synthetic set with a tiny budget: teacher, student and distilled student run, both
students are evaluated, and the temperature schedule shows in the logs."""
import json

import pytest

from rhis_plugin.data.synthetic import SceneConfig, generate_dataset


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('kd_data')
    cfg = SceneConfig(height=96, width=96, min_persons=2, max_persons=3)
    generate_dataset(root / 'train', 6, seed=0, cfg=cfg)
    generate_dataset(root / 'val', 3, seed=1, cfg=cfg)
    return root


@pytest.mark.slow
@pytest.mark.parametrize('stage, size, metric', [('peopleseg', (64, 64), 'peopleseg/iou'),
                                                 ('instance', (96, 96), 'coco/segm_mAP')])
def test_kd_ablation_runs_every_arm(stage, size, metric, data_root, tmp_path, capsys, load_tool, mmdet_scope):
    out = tmp_path / 'kd.json'
    tool = load_tool('kd_ablation')
    tool.main(['--stage', stage, '--data-root', str(data_root), '--teacher-iters', '2', '--student-iters', '3',
               '--image-size', *map(str, size), '--batch-size', '2', '--work-dir', str(tmp_path / 'work'),
               '--out', str(out)])
    results = json.loads(out.read_text())
    assert set(results['runs']) == {'teacher', 'student', 'student_kd'}
    for run in results['runs'].values():
        assert metric in run['metrics']
    printed = capsys.readouterr().out
    assert 'student_kd' in printed and 'distillation changes' in printed
    log = next((tmp_path / 'work' / stage / 'student_kd').glob('*/*.log')).read_text()
    assert 'kd_temperature: 10.0000' in log and 'kd_temperature: 1.0000' in log
