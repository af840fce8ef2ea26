"""`rhis-yolo`: yolo's syntax plus rhis=... arguments."""
import subprocess
import sys
from pathlib import Path

import pytest
from ultralytics.utils import ASSETS

from rhis_plugin.models import build_rhis, save_rhis
from rhis_plugin.postprocess import PostprocessConfig
from rhis_plugin.ultralytics.cli import parse

RHIS_YOLO = Path(sys.executable).with_name('rhis-yolo')


def test_parse_splits_rhis_arguments():
    mode, overrides, rhis = parse(['segment', 'predict', 'model=yolo11n.pt', 'source=a.jpg', 'save=True', 'conf=0.25',
                                   'rhis=w.pth', 'rhis_dilate=2', 'rhis_classes=0', 'rhis_smooth=guided'])
    assert mode == 'predict'
    assert overrides == {'task': 'segment', 'model': 'yolo11n.pt', 'source': 'a.jpg', 'save': True, 'conf': 0.25}
    assert rhis == {'weights': 'w.pth', 'classes': [0],
                    'postprocess': PostprocessConfig(dilation=2, smoothing='guided')}


@pytest.mark.parametrize('argv, message', [
    (['train', 'model=yolo11n.pt'], 'runs the modes'),
    (['predict', 'source=a.jpg'], 'model=... is required'),
    (['predict', 'model=yolo11n.pt', 'oops'], 'unknown argument'),
])
def test_parse_errors(argv, message):
    with pytest.raises(ValueError, match=message):
        parse(argv)


def test_predict_writes_images_with_masks(tmp_path):
    weights = save_rhis(build_rhis('rhis_b0_64x48'), tmp_path / 'rhis_b0.pth')
    result = subprocess.run(
        [str(RHIS_YOLO), 'predict', 'model=yolo11n.yaml', f'source={ASSETS / "bus.jpg"}', f'rhis={weights}',
         'rhis_threshold=0.0', 'rhis_classes=None', 'conf=0.0', 'max_det=3', 'imgsz=320', 'save=True',
         'rhis_allow_random=True',
         f'project={tmp_path}', 'name=run', 'exist_ok=True'],
        cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    written = list((tmp_path / 'run').glob('*.jpg'))
    assert [p.name for p in written] == ['bus.jpg'] and written[0].stat().st_size > 10_000


def test_bad_weights_are_a_clear_error(tmp_path):
    result = subprocess.run([str(RHIS_YOLO), 'predict', 'model=yolo11n.yaml', f'source={ASSETS / "bus.jpg"}',
                             f'rhis={tmp_path / "missing.pth"}'], cwd=tmp_path, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 2 and 'RHIS checkpoint not found' in result.stderr


def test_a_random_people_seg_unet_is_refused_unless_asked(tmp_path):
    weights = save_rhis(build_rhis('rhis_b0_64x48'), tmp_path / 'rhis_b0.pth')
    result = subprocess.run([str(RHIS_YOLO), 'predict', 'model=yolo11n.yaml', f'source={ASSETS / "bus.jpg"}',
                             f'rhis={weights}', 'imgsz=64'], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 2 and 'rhis_peopleseg=' in result.stderr and 'Traceback' not in result.stderr
