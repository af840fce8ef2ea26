"""`mim train mmdet <config>` then `mim test mmdet <config> --checkpoint`, on a tiny synthetic set, on CPU."""
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MIM = Path(sys.executable).with_name('mim')
CONFIGS = ROOT / 'configs' / 'mmdet'


def assert_coco_metrics(output: str, segm: bool = True) -> None:
    assert 'bbox_mAP_copypaste' in output, output[-3000:]
    if segm:
        assert 'segm_mAP_copypaste' in output, output[-3000:]


def train_and_test(run_cli, tmp_path, config: str, options: list[str]) -> Path:
    work_dir = tmp_path / Path(config).stem
    trained = run_cli([MIM, 'train', 'mmdet', CONFIGS / config, '--work-dir', work_dir, '--cfg-options', *options],
                      cwd=tmp_path)
    checkpoint = work_dir / 'epoch_1.pth'
    assert checkpoint.is_file(), trained.stdout[-3000:]
    tested = run_cli([MIM, 'test', 'mmdet', CONFIGS / config, '--checkpoint', checkpoint, '--work-dir', work_dir,
                      '--cfg-options', *options], cwd=tmp_path)
    assert_coco_metrics(tested.stdout + tested.stderr, segm='coco_person' not in config)
    return checkpoint


@pytest.mark.slow
def test_rhis_rtdetr_joint(run_cli, tiny_options, tmp_path):
    train_and_test(run_cli, tmp_path, 'rhis_rtdetr.py', tiny_options(detr_prefix='model.detector'))


@pytest.mark.slow
def test_rhis_gt_boxes(run_cli, tiny_options, tmp_path):
    train_and_test(run_cli, tmp_path, 'rhis_b0_gtbox.py', tiny_options())


@pytest.mark.slow
def test_rtdetr_then_rhis_frozen(run_cli, tiny_options, tmp_path):
    detector = train_and_test(run_cli, tmp_path, 'rtdetr_r18_coco_person.py', tiny_options(detr_prefix='model'))
    train_and_test(run_cli, tmp_path, 'rhis_rtdetr_frozen.py',
                   tiny_options(detr_prefix='model.detector') + [f'model.detector_checkpoint={detector}'])


def test_frozen_without_checkpoint_is_a_clear_error(run_cli, tiny_options, tmp_path):
    result = run_cli([sys.executable, ROOT / 'tools/train.py', CONFIGS / 'rhis_rtdetr_frozen.py', '--work-dir',
                      tmp_path, '--cfg-options', *tiny_options(detr_prefix='model.detector')],
                     cwd=tmp_path, check=False)
    assert result.returncode != 0 and 'needs detector_checkpoint' in result.stderr
