import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_model_info_prints_ours_and_upstream_side_by_side():
    result = subprocess.run([sys.executable, str(ROOT / 'tools/model_info.py'), '--presets', 'rhis_b0_64x48',
                             '--image-size', '96', '128'], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines() if line.startswith(('rhis', 'up'))}
    assert set(rows) == {'rhis_b0_64x48', 'upstream_b0_64x48'}
    assert rows['upstream_b0_64x48'][4] == '1.000x'
    assert float(rows['rhis_b0_64x48'][4].rstrip('x')) <= 0.2     # at most 1/5 of the reference per ROI
