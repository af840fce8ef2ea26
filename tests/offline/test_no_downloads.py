"""Nothing downloads or installs at run time: rhis predict and rhis-yolo train / predict / export run with the network
and pip blocked (tests/offline/sitecustomize.py records every attempt), on a machine with the project's extras.

Ultralytics' reachability probe at import (a DNS lookup of two public resolvers' names, ``is_online``) is allowed: it
fetches nothing, and it is how Ultralytics learns that it is offline."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
BIN = Path(sys.executable).parent
PROBE = ('dns\tone.one.one.one', 'dns\tdns.google')      # ultralytics.utils.is_online


def offline_env(tmp_path: Path) -> tuple[dict, Path]:
    log = tmp_path / 'blocked.log'
    env = {k: v for k, v in os.environ.items() if k != 'PYTEST_CURRENT_TEST'}
    env.update(PYTHONPATH=os.pathsep.join([str(HERE), env.get('PYTHONPATH', '')]).rstrip(os.pathsep),
               RHIS_BLOCKED_LOG=str(log), YOLO_CONFIG_DIR=str(tmp_path / 'ultralytics_settings'),
               PYTHONWARNINGS='ignore')
    return env, log


def test_the_block_catches_a_download(tmp_path):
    env, log = offline_env(tmp_path)
    code = 'import urllib.request\ntry:\n    urllib.request.urlopen("https://example.com", timeout=5)\nexcept OSError:\n    pass'
    subprocess.run([sys.executable, '-c', code], env=env, timeout=60, check=True)
    assert 'example.com' in log.read_text()


@pytest.mark.slow
def test_train_predict_and_export_run_offline(tmp_path):
    from rhis_plugin.data.synthetic import SceneConfig, generate_dataset
    env, log = offline_env(tmp_path)
    image = (np.random.default_rng(0).random((96, 128, 3)) * 255).astype(np.uint8)
    Image.fromarray(image).save(tmp_path / 'frame.jpg')
    scene = SceneConfig(height=96, width=96, min_persons=1, max_persons=2)
    generate_dataset(tmp_path / 'data' / 'train', 4, seed=0, cfg=scene)
    generate_dataset(tmp_path / 'data' / 'val', 2, seed=1, cfg=scene)
    subprocess.run([sys.executable, str(ROOT / 'tools/coco_to_yolo.py'), '--coco', 'data', '--out', 'yolo'],
                   cwd=tmp_path, env=env, check=True, capture_output=True, timeout=300)
    commands = [
        [str(BIN / 'rhis-yolo'), 'train', 'model=yolo11n.yaml', 'data=yolo/data.yaml', 'epochs=1', 'imgsz=64',
         'batch=2', 'workers=0', 'max_det=5', f'project={tmp_path / "runs"}', 'name=offline'],
        [str(BIN / 'rhis'), 'predict', '--detector', 'yolo11n.yaml', '--conf', '0.0', '--max-det', '3', '--source',
         'frame.jpg', '--out', 'pred'],
        [str(BIN / 'rhis-yolo'), 'predict', 'model=yolo11n.yaml', 'source=frame.jpg', 'imgsz=64', 'conf=0.0',
         'max_det=3', 'save'],
        [str(BIN / 'rhis-yolo'), 'export', 'model=yolo11n.yaml', 'format=onnx', 'imgsz=64'],
    ]
    for command in commands:
        result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
        assert result.returncode == 0, f'{command}\n{result.stdout[-2000:]}{result.stderr[-3000:]}'
    attempts = [line for line in (log.read_text() if log.exists() else '').splitlines() if line not in PROBE]
    assert not attempts, 'network or install attempts:\n' + '\n'.join(attempts)
