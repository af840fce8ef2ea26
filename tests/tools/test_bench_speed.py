import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_ort_only_run_prints_its_table_and_summary(tmp_path):
    """--backends ort_cpu alone (no PyTorch column to count complexity from) prints the table and the default
    preset's summary instead of failing on a missing torch_cpu entry."""
    out = tmp_path / 'speed.json'
    result = subprocess.run([sys.executable, str(ROOT / 'tools/bench_speed.py'), '--backends', 'ort_cpu', '--presets',
                             'rhis_lite0_64x48', '--rois', '1', '--frame-sizes', '64x64', '--detectors',
                             '--repeats', '1', '--warmup', '0', '--max-seconds', '1', '--out', str(out)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'rhis_lite0_64x48' in result.stdout and 'ort_cpu' in result.stdout
    summary = json.loads(out.read_text())['summary']
    assert summary['preset'] == 'rhis_lite0_64x48' and summary['backend'] == 'ort_cpu'
