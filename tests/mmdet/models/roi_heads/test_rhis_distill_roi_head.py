"""Stage-2 distillation: a frozen teacher RHIS teaches the RHIS head on the same ROIs."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

import rhis_plugin.mmdet  # noqa: F401
from mmdet.registry import DATASETS, MODELS
from rhis_plugin.models import build_rhis, save_rhis

CONFIGS = Path(__file__).resolve().parents[4] / 'configs' / 'mmdet'
SMALL_TEACHER = dict(teacher_preset='rhis_b0_80x60', teacher_options=dict(unet_encoder='timm-efficientnet-b0'))


def training_batch(cfg, model, synthetic_root, count=2):
    dataset_cfg = cfg.train_dataloader.dataset
    dataset_cfg.data_root = f'{synthetic_root}/'
    dataset_cfg.pipeline[2]['scale'] = (128, 128)
    dataset = DATASETS.build(dataset_cfg)
    data = {'inputs': [dataset[i]['inputs'] for i in range(count)],
            'data_samples': [dataset[i]['data_samples'] for i in range(count)]}
    return model.data_preprocessor(data, training=True)


def test_rhis_distillation_trains_the_student_only(synthetic_root, tmp_path):
    save_rhis(build_rhis('rhis_b0_80x60'), tmp_path / 'teacher.pth')
    cfg = Config.fromfile(str(CONFIGS / 'kd' / 'kd_rhis-b7-to-b0_gt-boxes_1xb4-36e_coco-person.py'))
    cfg.model.roi_head.update(SMALL_TEACHER, feature_weight=1.0)
    untaught = MODELS.build(cfg.model)
    with pytest.raises(RuntimeError, match='teacher_checkpoint'):
        untaught(**training_batch(cfg, untaught, synthetic_root), mode='loss')

    cfg.model.roi_head.teacher_checkpoint = str(tmp_path / 'teacher.pth')
    model = MODELS.build(cfg.model).train()
    head = model.roi_head
    assert head.teacher.mask_size != head.rhis.mask_size         # 160x120 teacher masks, 128x96 student
    assert not any('teacher' in k for k in model.state_dict())
    before = {k: v.clone() for k, v in head.teacher.state_dict().items()}
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    head.kd_temperature = 3.0
    losses = model(**training_batch(cfg, model, synthetic_root), mode='loss')
    assert {'loss_rhis_kd', 'loss_rhis_feature', 'loss_rhis_ce'} <= set(losses)
    assert losses['loss_rhis_kd'] > 0
    optimizer.zero_grad()
    sum(losses.values()).backward()
    optimizer.step()
    assert all(torch.equal(before[k], v) for k, v in head.teacher.state_dict().items())
    assert all(p.grad is None for p in head.teacher.parameters()) and not head.teacher.training
    assert head.feature_matching.adapters[0].weight.grad is not None
