"""People-seg stage on mmengine: pipeline targets, the segmentor, the distiller and the training hooks."""
import copy
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config

import rhis_plugin.mmdet  # noqa: F401
from mmdet.registry import DATASETS, MODELS
from rhis_plugin.mmdet.runner import load_peopleseg_checkpoint

CONFIGS = Path(__file__).resolve().parents[4] / 'configs' / 'mmdet'


def people_cfg(synthetic_root, name='peopleseg/peopleseg-unet_b0_1xb4-50e_coco-person-lb320.py', size=(64, 64)) -> Config:
    cfg = Config.fromfile(str(CONFIGS / name))
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        loader.dataset.data_root = f'{synthetic_root}/'
        for step in loader.dataset.pipeline:
            if step['type'] == 'Resize':
                step['scale'] = size
    cfg.val_evaluator.ann_file = f'{synthetic_root}/val/annotations.json'
    return cfg


def batch(cfg, model, count=2, split='train'):
    dataset = DATASETS.build(cfg[f'{split}_dataloader'].dataset)
    data = {'inputs': [], 'data_samples': []}
    for i in range(count):
        item = dataset[i]
        data['inputs'].append(item['inputs'])
        data['data_samples'].append(item['data_samples'])
    return model.data_preprocessor(data, training=split == 'train')


def test_pipeline_builds_union_and_signed_distance(synthetic_root):
    from rhis_plugin.data import signed_distance_map
    cfg = people_cfg(synthetic_root)
    pipeline = copy.deepcopy(cfg.train_dataloader.dataset.pipeline)
    pipeline = [step for step in pipeline if step['type'] not in ('RandomFlip', 'PhotoMetricDistortion')]
    cfg.train_dataloader.dataset.pipeline = pipeline
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    sample = dataset[0]['data_samples']
    union = sample.gt_sem_seg.sem_seg[0].numpy()
    masks = sample.gt_instances.masks.to_ndarray()
    assert union.shape == (64, 64) and union.any()
    np.testing.assert_array_equal(union.astype(bool), masks.any(0))
    np.testing.assert_allclose(sample.gt_sem_seg.signed_distance[0].numpy(), signed_distance_map(union), atol=1e-4)


def test_segmentor_loss_and_predict_at_original_size(synthetic_root):
    cfg = people_cfg(synthetic_root)
    cfg.model.refine = dict(type='learnable', radii=(2, 4))
    model = MODELS.build(cfg.model)
    model.init_weights()
    data = batch(cfg, model)
    model.loss_fn.boundary_weight = 0.1
    losses = model(**data, mode='loss')
    assert set(losses) == {'loss_bce', 'loss_tversky', 'loss_boundary', 'loss_refine_bce'}
    sum(losses.values()).backward()
    assert model.refine.log_eps.grad is not None
    model.eval()
    out = model(**batch(cfg, model, split='val'), mode='predict')
    prob = out[0].pred_sem_seg.sem_seg
    assert prob.shape[-2:] == tuple(out[0].metainfo['ori_shape'][:2]) == (128, 128)
    assert 0 <= prob.min() and prob.max() <= 1


def test_progressive_unfreezing_freezes_early_stages_and_their_statistics(synthetic_root):
    cfg = people_cfg(synthetic_root)
    cfg.model.trainable_encoder_stages = 2
    model = MODELS.build(cfg.model).train()
    stages = model.unet.encoder_stages()
    assert not any(p.requires_grad for p in stages[0].parameters())
    assert all(p.requires_grad for p in stages[-1].parameters())
    norms = lambda stage: [m for m in stage.modules() if isinstance(m, torch.nn.BatchNorm2d)]  # noqa: E731
    assert norms(stages[0]) and not any(m.training for m in norms(stages[0]))
    assert all(m.training for m in norms(stages[-1]))
    model.set_trainable_encoder_stages(None)
    assert all(p.requires_grad for p in model.unet.encoder.parameters())
    with pytest.raises(ValueError):
        model.set_trainable_encoder_stages(len(stages) + 1)


def test_distiller_trains_the_student_only(synthetic_root, tmp_path):
    teacher_cfg = people_cfg(synthetic_root, 'peopleseg/peopleseg-unet_mobilenetv3-small_1xb4-50e_coco-person-lb320.py')
    teacher = MODELS.build(teacher_cfg.model)
    torch.save({'state_dict': teacher.state_dict()}, tmp_path / 'teacher.pth')

    cfg = people_cfg(synthetic_root, 'kd/kd_peopleseg-unet-b7-to-b0_1xb4-50e_coco-person-lb320.py')
    cfg.model.teacher = dict(encoder='mobilenetv3_small_100')
    cfg.model.feature_weight = 1.0
    untaught = MODELS.build(cfg.model)
    with pytest.raises(RuntimeError, match='teacher_checkpoint'):
        untaught(**batch(cfg, untaught), mode='loss')

    cfg.model.teacher_checkpoint = str(tmp_path / 'teacher.pth')
    model = MODELS.build(cfg.model)
    assert not any(k.startswith('teacher') for k in model.state_dict())
    assert torch.equal(model.teacher.decoder.blocks[0].conv1[0].weight, teacher.unet.decoder.blocks[0].conv1[0].weight)
    before = {k: v.clone() for k, v in model.teacher.state_dict().items()}
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model.train()
    model.kd_temperature = 4.0
    for _ in range(2):
        losses = model(**batch(cfg, model), mode='loss')
        optimizer.zero_grad()
        sum(losses.values()).backward()
        optimizer.step()
    assert {'loss_bce', 'loss_tversky', 'loss_kd', 'loss_feature'} <= set(losses)
    assert all(torch.equal(before[k], v) for k, v in model.teacher.state_dict().items())
    assert not model.teacher.training
    assert all(p.grad is None for p in model.teacher.parameters())


def test_unet_checkpoint_must_match(tmp_path):
    from rhis_plugin.models import PeopleSegUNet
    small = PeopleSegUNet('mobilenetv3_small_075')
    torch.save(small.state_dict(), tmp_path / 'smp.pth')
    load_peopleseg_checkpoint(PeopleSegUNet('mobilenetv3_small_075'), str(tmp_path / 'smp.pth'))
    with pytest.raises(ValueError, match='does not match'):
        load_peopleseg_checkpoint(PeopleSegUNet('mobilenetv3_small_100'), str(tmp_path / 'smp.pth'))


def test_peopleseg_training_starts_the_boundary_term_on_schedule(run_cli, synthetic_root, tmp_path):
    """A short CPU run of the people-seg config: validation every epoch, the boundary term starts after the
    second validation (plateau or schedule) and its weight shows in the logs."""
    root = f'{synthetic_root}/'
    options = ['train_cfg.max_epochs=4', 'train_dataloader.batch_size=4', 'default_hooks.logger.interval=1',
               f'val_evaluator.ann_file={root}val/annotations.json', 'custom_hooks.0.start_after=2',
               'param_scheduler.0.end=2', 'default_hooks.visualization.draw=False']
    for loader in ('train_dataloader', 'val_dataloader'):
        options += [f'{loader}.dataset.data_root={root}', f'{loader}.num_workers=0',
                    f'{loader}.persistent_workers=False']
    options += ['train_dataloader.dataset.pipeline.2.scale=(64,64)', 'val_dataloader.dataset.pipeline.1.scale=(64,64)']
    run_cli([sys.executable, CONFIGS.parents[1] / 'tools' / 'train.py', CONFIGS / 'peopleseg' / 'peopleseg-unet_b0_1xb4-50e_coco-person-lb320.py',
             '--work-dir', tmp_path, '--cfg-options', *options], cwd=tmp_path)
    log = next(tmp_path.glob('*/*.log')).read_text()
    assert 'boundary loss starts after validation 2' in log
    epochs = {e: line for line in log.splitlines() for e in range(1, 5) if f'Epoch(train) [{e}]' in line}
    assert 'boundary_weight: 0.0000' in epochs[1] and 'loss_boundary' not in epochs[1]
    assert 'boundary_weight: 0.0100' in epochs[3] and 'loss_boundary' in epochs[3]
    assert 'boundary_weight: 0.0200' in epochs[4]
    for metric in ('peopleseg/iou', 'peopleseg/dice', 'peopleseg/precision', 'peopleseg/recall',
                   'peopleseg/accuracy', 'peopleseg/auroc'):
        assert metric in log
