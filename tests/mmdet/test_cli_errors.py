"""Command-line errors of the mmdet path. The README test runs every documented `mim train`/`mim test` end to end."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = ROOT / 'configs' / 'mmdet'


def test_frozen_without_checkpoint_is_a_clear_error(run_cli, tiny_options, tmp_path):
    result = run_cli([sys.executable, ROOT / 'tools/train.py', CONFIGS / 'rhis_rtdetr_frozen.py', '--work-dir',
                      tmp_path, '--cfg-options', *tiny_options(detr_prefix='model.detector')],
                     cwd=tmp_path, check=False)
    assert result.returncode != 0 and 'needs detector_checkpoint' in result.stderr
