"""RT-DETR parts: hybrid encoder, IoU-aware query selection, denoising groups, losses."""
import copy
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.structures import InstanceData

import rhis_plugin.mmdet  # noqa: F401
from mmdet.registry import DATASETS, MODELS
from mmdet.structures import DetDataSample
from rhis_plugin.mmdet.models.necks.rhis_hybrid_encoder import RHISHybridEncoder, sincos_position_embedding_2d
from rhis_plugin.mmdet.models.losses import RHISVarifocalLoss

CONFIGS = Path(__file__).resolve().parents[4] / 'configs' / 'mmdet'


def small_rtdetr():
    cfg = Config.fromfile(str(CONFIGS / 'rtdetr/rtdetr_r18_1xb4-36e_coco-person.py'))
    cfg.model.num_queries = 30
    cfg.model.dn_cfg.group_cfg.num_dn_queries = 12
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model, cfg


def samples_with_boxes(count: int = 2, size: int = 128):
    samples = []
    for i in range(count):
        sample = DetDataSample(metainfo=dict(img_shape=(size, size), batch_input_shape=(size, size),
                                             ori_shape=(size, size), scale_factor=(1.0, 1.0), pad_shape=(size, size)))
        gt = InstanceData()
        gt.bboxes = torch.tensor([[10.0, 10.0, 60.0, 100.0], [50.0, 20.0, 120.0, 120.0]])[: i + 1]
        gt.labels = torch.zeros(i + 1, dtype=torch.long)
        sample.gt_instances = gt
        samples.append(sample)
    return samples


@pytest.mark.parametrize('sizes', [[(16, 16), (8, 8), (4, 4)], [(17, 13), (9, 7), (5, 4)]])
def test_hybrid_encoder_shapes(sizes):
    encoder = RHISHybridEncoder(in_channels=[32, 64, 128], hidden_dim=64, dim_feedforward=128, nhead=4,
                            expansion=0.5).eval()
    feats = [torch.randn(2, c, h, w) for c, (h, w) in zip([32, 64, 128], sizes)]
    outs = encoder(feats)
    assert [tuple(o.shape) for o in outs] == [(2, 64, h, w) for h, w in sizes]
    with pytest.raises(ValueError, match='expects 3 feature maps'):
        encoder(feats[:2])


def test_official_parameter_names():
    names = set(dict(RHISHybridEncoder(in_channels=[32, 64, 128], hidden_dim=64, dim_feedforward=128,
                                   nhead=4).named_parameters()))
    for expected in ('input_proj.0.0.weight', 'input_proj.0.1.weight',
                     'encoder.0.layers.0.self_attn.in_proj_weight',
                     'encoder.0.layers.0.linear1.weight', 'lateral_convs.0.conv.weight',
                     'fpn_blocks.0.conv1.conv.weight',
                     'fpn_blocks.0.bottlenecks.0.conv1.conv.weight', 'downsample_convs.0.norm.weight',
                     'pan_blocks.1.conv2.norm.bias'):
        assert expected in names, expected


def test_position_embedding():
    pos = sincos_position_embedding_2d(3, 5, 16)
    assert pos.shape == (1, 15, 16) and pos.abs().max() <= 1
    assert not torch.allclose(pos[0, 0], pos[0, 1])
    with pytest.raises(ValueError, match='divisible by 4'):
        sincos_position_embedding_2d(3, 5, 10)


def test_query_selection_takes_top_encoder_tokens():
    model, _ = small_rtdetr()
    model.eval()
    shapes = torch.tensor([[16, 16], [8, 8], [4, 4]])
    memory = torch.randn(2, int(shapes.prod(1).sum()), model.embed_dims)
    decoder_inputs, head_inputs = model.pre_decoder(memory, None, shapes)
    assert head_inputs == {}
    query, reference = decoder_inputs['query'], decoder_inputs['reference_points']
    assert query.shape == (2, 30, model.embed_dims) and reference.shape == (2, 30, 4)
    assert ((reference > 0) & (reference < 1)).all()
    output_memory, _ = model.gen_encoder_output_proposals(memory, None, shapes)
    scores = model.bbox_head.cls_branches[model.decoder.num_layers](output_memory).max(-1)[0]
    top = scores.topk(30, dim=1).indices
    assert torch.allclose(query, torch.gather(output_memory, 1, top[..., None].expand(-1, -1, model.embed_dims)))
    with pytest.raises(ValueError, match='encoder tokens'):
        model.pre_decoder(memory[:, :20], None, torch.tensor([[4, 5]]))


def test_denoising_groups_in_training():
    model, _ = small_rtdetr()
    model.train()
    shapes = torch.tensor([[16, 16], [8, 8], [4, 4]])
    memory = torch.randn(2, int(shapes.prod(1).sum()), model.embed_dims)
    decoder_inputs, head_inputs = model.pre_decoder(memory, None, shapes, samples_with_boxes())
    meta = head_inputs['dn_meta']
    num_dn = meta['num_denoising_queries']
    assert num_dn > 0 and meta['num_denoising_groups'] >= 1
    assert num_dn == 2 * meta['num_denoising_groups'] * 2     # positive + negative per GT, 2 GTs max per image
    total = num_dn + 30
    assert decoder_inputs['query'].shape == (2, total, model.embed_dims)
    assert decoder_inputs['dn_mask'].shape == (total, total)
    assert head_inputs['enc_outputs_class'].shape == (2, 30, 1)


def test_losses_are_finite_and_include_every_part(synthetic_root):
    model, cfg = small_rtdetr()
    dataset_cfg = copy.deepcopy(cfg.train_dataloader.dataset)
    dataset_cfg.data_root = f'{synthetic_root}/'
    dataset_cfg.pipeline[2].scale = (128, 128)
    dataset = DATASETS.build(dataset_cfg)
    batch = model.data_preprocessor(pseudo_collate([dataset[0], dataset[1]]), True)
    model.train()
    losses = model.loss(batch['inputs'], batch['data_samples'])
    for key in ('loss_cls', 'loss_bbox', 'loss_iou', 'enc_loss_cls', 'dn_loss_cls', 'd0.loss_cls'):
        assert key in losses and torch.isfinite(losses[key]), key
    loss, _ = model.parse_losses(losses)
    loss.backward()
    assert model.neck.encoder[0].layers[0].linear1.weight.grad is not None


def test_varifocal_loss():
    loss = RHISVarifocalLoss(reduction='sum')
    pred = torch.tensor([[8.0], [-8.0], [-8.0]], requires_grad=True)
    labels = torch.tensor([0, 1, 1])                    # 1 == background for one class
    scores = torch.tensor([1.0, 0.0, 0.0])
    good = loss(pred, (labels, scores))
    bad = loss(-pred, (labels, scores))
    assert good < 0.01 < bad
    bad.backward()
    pred2 = torch.zeros(1, 1, requires_grad=True)
    loss(pred2, (torch.tensor([0]), torch.tensor([0.8]))).backward()
    assert pred2.grad[0, 0] < 0                          # pushes the score of a matched box up


@pytest.mark.slow
def test_overfits_a_handful_of_images(synthetic_root, tmp_path):
    """Trained and evaluated on the same 4 images: box AP must climb well above zero within a short run."""
    from mmengine.runner import Runner
    cfg = Config.fromfile(str(CONFIGS / 'rtdetr/rtdetr_r18_1xb4-36e_coco-person.py'))
    root = f'{synthetic_root}/'
    epochs = 70
    cfg.merge_from_dict({
        'work_dir': str(tmp_path), 'log_level': 'WARNING', 'randomness': dict(seed=0),
        'train_dataloader.batch_size': 4, 'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False, 'val_dataloader.num_workers': 0,
        'val_dataloader.persistent_workers': False,
        'train_dataloader.dataset.data_root': root, 'val_dataloader.dataset.data_root': root,
        'train_dataloader.dataset.ann_file': 'val/annotations.json',
        'train_dataloader.dataset.data_prefix.img': 'val/images/',
        'train_dataloader.dataset.pipeline.2.scale': (128, 128), 'train_dataloader.dataset.pipeline.3.prob': 0.0,
        'val_dataloader.dataset.pipeline.2.scale': (128, 128), 'val_evaluator.ann_file': root + 'val/annotations.json',
        'train_cfg.max_epochs': epochs, 'train_cfg.val_interval': epochs,
        'param_scheduler': [dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=10)],
        'optim_wrapper.optimizer.lr': 2e-3, 'optim_wrapper.clip_grad.max_norm': 1.0,
        'model.num_queries': 50, 'model.test_cfg.max_per_img': 50, 'model.dn_cfg.group_cfg.num_dn_queries': 20,
        'default_hooks.checkpoint.interval': 1000, 'default_hooks.visualization.draw': False,
    })
    cfg.test_dataloader = cfg.val_dataloader
    cfg.test_evaluator = cfg.val_evaluator
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = runner.val_loop.run()
    assert metrics['coco/bbox_mAP_50'] > 0.5 and metrics['coco/bbox_mAP'] > 0.3, metrics
