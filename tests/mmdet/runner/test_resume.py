"""Kill a training run after a checkpoint, resume it, and reach the same iteration count."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from rhis_plugin.mmdet.runner import load_local_checkpoint

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_kill_and_resume(tiny_options, tmp_path):
    epochs, iters_per_epoch = 6, 4       # 8 training images, batch 2
    work_dir = tmp_path / 'work'
    command = [sys.executable, str(ROOT / 'tools/train.py'), str(ROOT / 'configs/mmdet/rhis/rhis-b0_gt-boxes_1xb4-36e_coco-person.py'),
               '--work-dir', str(work_dir), '--cfg-options', *tiny_options(epochs=epochs), 'train_cfg.val_interval=100',
               'model.roi_head.peopleseg_checkpoint=random']
    env = {**os.environ, 'PYTHONWARNINGS': 'ignore'}
    process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    first = work_dir / 'epoch_1.pth'
    deadline = time.time() + 600
    while not first.exists() and process.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)   # let the checkpoint file finish writing
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert first.exists(), 'training never wrote its first checkpoint'
    assert not (work_dir / f'epoch_{epochs}.pth').exists(), 'training finished before it could be killed'
    killed_at = max(int(p.stem.split('_')[1]) for p in work_dir.glob('epoch_*.pth'))

    resumed = subprocess.run(command + ['--resume'], cwd=tmp_path, env=env, capture_output=True, text=True,
                             timeout=900)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    log = resumed.stdout + resumed.stderr
    assert 'Auto resumed from the latest checkpoint' in log
    assert f'resumed epoch: {killed_at}, iter: {killed_at * iters_per_epoch}' in log
    final = load_local_checkpoint(str(work_dir / f'epoch_{epochs}.pth'))
    assert final['meta']['epoch'] == epochs
    assert final['meta']['iter'] == epochs * iters_per_epoch
    assert isinstance(final['state_dict'], dict) and all(isinstance(v, torch.Tensor)
                                                         for v in final['state_dict'].values())
