import subprocess
import sys
from pathlib import Path

import numpy as np
from pycocotools.coco import COCO

from rhis_plugin.data.occlusion import occlusion_by_annotation

ROOT = Path(__file__).resolve().parents[2]


def test_cli_writes_200_image_dataset_with_overlaps(tmp_path):
    out = tmp_path / 'synthetic'
    result = subprocess.run([sys.executable, str(ROOT / 'tools/make_synthetic.py'), '--out', str(out),
                             '--num-images', '200', '--seed', '0'], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert 'wrote 200 images' in result.stdout
    coco = COCO(str(out / 'annotations.json'))
    assert len(coco.getImgIds()) == 200 and len(list((out / 'images').iterdir())) == 200
    fractions = np.array(list(occlusion_by_annotation(coco).values()))
    assert np.mean(fractions > 0) >= 0.3, 'persons whose box holds another person must be common'


def test_cli_rejects_bad_arguments(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / 'tools/make_synthetic.py'), '--out', str(tmp_path),
                             '--num-images', '0'], capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and 'num_images' in result.stderr
