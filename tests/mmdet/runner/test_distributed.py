"""Distributed training under mmengine's launcher, on CPU processes (gloo): the RHIS detector and the people-seg
stage train on two ranks, both ranks finish, and the checkpoint loads."""
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[3]
CONFIGS = ROOT / 'configs' / 'mmdet'
TORCHRUN = Path(sys.executable).with_name('torchrun')


def torchrun(run_cli, config: Path, work_dir: Path, options: list[str]):
    return run_cli([TORCHRUN, '--standalone', '--nproc_per_node', '2', ROOT / 'tools' / 'train.py', config,
                    '--launcher', 'pytorch', '--work-dir', work_dir, '--cfg-options', *options], cwd=work_dir)


@pytest.mark.slow
def test_rhis_detector_trains_on_two_cpu_ranks(run_cli, tiny_options, tmp_path):
    from rhis_plugin.mmdet.runner import load_rhis_checkpoint
    from rhis_plugin.models import build_rhis
    options = tiny_options() + ['val_cfg=None', 'val_dataloader=None', 'val_evaluator=None',
                                'model.roi_head.peopleseg_checkpoint=random']
    torchrun(run_cli, CONFIGS / 'rhis' / 'rhis-b0_gt-boxes_1xb4-36e_coco-person.py', tmp_path, options)
    log = next(tmp_path.glob('*/*.log')).read_text()          # torchrun exits 0 only when both ranks did
    assert 'Distributed training: True' in log and 'GPU number: 2' in log      # mmengine's words for world size
    assert 'Epoch(train) [1][2/2]' in log                      # 8 images, batch 2, split over two ranks
    checkpoint = tmp_path / 'epoch_1.pth'
    rhis = build_rhis('rhis_b0_64x48')
    load_rhis_checkpoint(rhis, str(checkpoint))
    assert all(torch.isfinite(p).all() for p in rhis.parameters())


@pytest.mark.slow
def test_peopleseg_stage_trains_on_two_cpu_ranks(run_cli, synthetic_root, tmp_path):
    from rhis_plugin.mmdet.runner import load_peopleseg_checkpoint
    from rhis_plugin.models import PeopleSegUNet
    root = f'{synthetic_root}/'
    options = ['train_cfg.max_epochs=1', 'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
               'train_dataloader.persistent_workers=False', f'train_dataloader.dataset.data_root={root}',
               'train_dataloader.dataset.pipeline.2.scale=(64,64)', 'val_cfg=None', 'val_dataloader=None',
               'val_evaluator=None', 'default_hooks.checkpoint.save_best=None', 'custom_hooks=[]',
               'default_hooks.visualization.draw=False']
    torchrun(run_cli, CONFIGS / 'peopleseg' / 'peopleseg-unet_b0_1xb4-50e_coco-person-lb320.py', tmp_path,
             options)
    log = next(tmp_path.glob('*/*.log')).read_text()
    assert 'Distributed training: True' in log and 'GPU number: 2' in log
    unet = PeopleSegUNet('efficientnet_b0')
    load_peopleseg_checkpoint(unet, str(tmp_path / 'epoch_1.pth'))
