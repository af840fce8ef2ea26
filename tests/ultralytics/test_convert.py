"""segment_to_detect: a YOLO-seg model's detection part gives the very same boxes, and rhis-yolo takes it."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip('ultralytics')
from ultralytics import YOLO  # noqa: E402
from ultralytics.utils import ASSETS  # noqa: E402

from rhis_plugin.ultralytics import segment_to_detect  # noqa: E402

TOOL = Path(__file__).resolve().parents[2] / 'tools' / 'seg_to_detect.py'


def test_detection_part_has_the_same_boxes(tmp_path):
    segment = YOLO('yolo11n-seg.yaml')
    segment.save(tmp_path / 'seg.pt')
    result = subprocess.run([sys.executable, str(TOOL), str(tmp_path / 'seg.pt'), str(tmp_path / 'det.pt')],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    detect = YOLO(tmp_path / 'det.pt')
    assert detect.task == 'detect' and detect.names == YOLO(tmp_path / 'seg.pt').names
    options = dict(imgsz=128, conf=0.0, max_det=20, verbose=False)
    a = YOLO(tmp_path / 'seg.pt').predict(ASSETS / 'bus.jpg', **options)[0].boxes
    b = detect.predict(ASSETS / 'bus.jpg', **options)[0].boxes
    # The segmentation predictor also drops boxes whose mask is empty (many, for a random model): every box it
    # keeps is one of the detection part's, with the same score.
    assert 0 < len(a) <= len(b)
    rows = np.concatenate([b.xyxy.numpy(), b.conf.numpy()[:, None]], 1)
    for box in np.concatenate([a.xyxy.numpy(), a.conf.numpy()[:, None]], 1):
        assert np.abs(rows - box).max(1).min() < 1e-3
    with pytest.raises(ValueError, match='not a segmentation model'):
        segment_to_detect(tmp_path / 'det.pt', tmp_path / 'again.pt')
