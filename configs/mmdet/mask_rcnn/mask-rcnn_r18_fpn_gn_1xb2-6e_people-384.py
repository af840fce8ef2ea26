# Mask R-CNN (ResNet-18 FPN, GroupNorm, from scratch): the system a user would pick instead of RHIS in mmdet; its
# FCN mask branch (14x14 RoIAlign -> 28x28 mask) is the baseline RHIS replaces on the same boxes
# (`rhis eval --detector <this config> --detector-checkpoint <its checkpoint>` vs `--detector-masks`).
# No ImageNet or COCO weights exist offline, so it trains from scratch: GroupNorm everywhere (batch 2) as mmdet's
# scratch recipes do, AdamW. Data: <data_root>/{train,val}/ as written by tools/merge_coco.py (see README.md).
_base_ = [
    'mmdet::_base_/models/mask-rcnn_r50_fpn.py', '../_base_/datasets/coco_person.py', '../_base_/default_runtime.py'
]
norm_cfg = dict(type='GN', num_groups=32, requires_grad=True)
model = dict(
    backbone=dict(depth=18, frozen_stages=-1, zero_init_residual=False, norm_cfg=norm_cfg, norm_eval=False,
                  init_cfg=None),
    neck=dict(in_channels=[64, 128, 256, 512], norm_cfg=norm_cfg),
    roi_head=dict(bbox_head=dict(num_classes=1), mask_head=dict(num_classes=1, norm_cfg=norm_cfg)))

image_size = (384, 384)
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=image_size, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='Resize', scale=image_size, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
train_dataloader = dict(batch_size=2, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

max_epochs = 6
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=max_epochs)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=3e-4, weight_decay=0.05),
                     clip_grad=dict(max_norm=10.0), paramwise_cfg=dict(norm_decay_mult=0.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=200),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=0, end=max_epochs, T_max=max_epochs, eta_min_ratio=0.02,
         convert_to_iter_based=True)
]
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=2, max_keep_ckpts=2))
