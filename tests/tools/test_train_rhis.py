import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bad_folder_is_a_clear_error(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / 'tools/train_rhis.py'), '--train', str(tmp_path),
                             '--val', str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and 'no COCO annotation file' in result.stderr
