import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_instance_stage_refuses_a_random_unet_unless_asked(tmp_path):
    """No silent randomness: without stage-1 weights the heads would train on a random frozen UNet."""
    result = subprocess.run([sys.executable, str(ROOT / 'tools/kd_ablation.py'), '--stage', 'instance', '--data-root',
                             str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert result.returncode != 0 and '--allow-random' in result.stderr
    assert '--teacher-peopleseg' in result.stderr and '--student-peopleseg' in result.stderr
