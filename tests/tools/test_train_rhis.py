"""A short real training run on synthetic scenes beats the "box filled" baseline on held-out scenes."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from rhis_plugin.data.synthetic import SceneConfig, generate_dataset
from rhis_plugin.models import load_rhis

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_short_training_run_learns_people(tmp_path):
    cfg = SceneConfig(height=128, width=128, min_persons=2, max_persons=4)
    generate_dataset(tmp_path / 'train', 120, seed=0, cfg=cfg)
    generate_dataset(tmp_path / 'val', 30, seed=1, cfg=cfg)
    result = subprocess.run(
        [sys.executable, str(ROOT / 'tools/train_rhis.py'), '--train', str(tmp_path / 'train'),
         '--val', str(tmp_path / 'val'), '--iters', '150', '--device', 'cpu',
         '--out', str(tmp_path / 'rhis.pth'), '--metrics', str(tmp_path / 'metrics.json')],
        capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((tmp_path / 'metrics.json').read_text())
    assert metrics['target_iou'] > metrics['box_filled_iou'] + 0.1, metrics
    assert load_rhis(tmp_path / 'rhis.pth').cfg.roi_size == (64, 48)


def test_bad_folder_is_a_clear_error(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / 'tools/train_rhis.py'), '--train', str(tmp_path),
                             '--val', str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and 'no COCO annotation file' in result.stderr
