"""tools/train.py and tools/test.py; the README test runs the README's `mim train`/`mim test` commands end to end."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
CONFIGS = ROOT / 'configs' / 'mmdet'
FROZEN = CONFIGS / 'rhis' / 'rhis-b0_rtdetr-r18-frozen_1xb4-36e_coco-person.py'
GT_BOXES = CONFIGS / 'rhis' / 'rhis-b0_gt-boxes_1xb4-36e_coco-person.py'


def test_frozen_without_checkpoint_is_a_clear_error(run_cli, tiny_options, tmp_path):
    result = run_cli([sys.executable, ROOT / 'tools/train.py', FROZEN, '--work-dir',
                      tmp_path, '--cfg-options', *tiny_options(detr_prefix='model.detector'),
                      'model.roi_head.peopleseg_checkpoint=random'],
                     cwd=tmp_path, check=False)
    assert result.returncode != 0 and 'model.detector_checkpoint=' in result.stderr


def test_train_then_test_without_mim(run_cli, tiny_options, tmp_path):
    options = tiny_options() + ['model.roi_head.peopleseg_checkpoint=random']
    run_cli([sys.executable, ROOT / 'tools/train.py', GT_BOXES, '--work-dir', tmp_path,
             '--cfg-options', *options], cwd=tmp_path)
    tested = run_cli([sys.executable, ROOT / 'tools/test.py', GT_BOXES, tmp_path / 'epoch_1.pth',
                      '--work-dir', tmp_path, '--out', tmp_path / 'results.pkl', '--cfg-options', *options],
                     cwd=tmp_path)
    output = tested.stdout + tested.stderr
    assert 'segm_mAP_copypaste' in output and (tmp_path / 'results.pkl').is_file()
