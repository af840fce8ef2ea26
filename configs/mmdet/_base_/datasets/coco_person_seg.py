# Binary person segmentation from COCO-format person instances (<data_root>/{train,val}/annotations.json +
# images/): the target is the union of each image's non-crowd person masks. Images are stretched to image_size
# (w, h) as the reference does; predictions are scored at the original size against the original annotations.
# data_root: RHIS_DATA_ROOT, as in coco_person.py.
dataset_type = 'CocoDataset'
data_root = '{{$RHIS_DATA_ROOT:data/synthetic/}}'
metainfo = dict(classes=('person', ), palette=[(220, 20, 60)])
backend_args = None
image_size = (320, 180)

# Resize stays at index 2 of both pipelines: size variants and tests override its scale by index.
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=image_size, keep_ratio=False),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PersonSegTargets', with_signed_distance=True),
    dict(type='PackPeopleSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=image_size, keep_ratio=False),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        ann_file='train/annotations.json',
        data_prefix=dict(img='train/images/'),
        filter_cfg=dict(filter_empty_gt=False),
        pipeline=train_pipeline,
        backend_args=backend_args))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        ann_file='val/annotations.json',
        data_prefix=dict(img='val/images/'),
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args))
test_dataloader = val_dataloader

val_evaluator = dict(type='BinarySegMetric', ann_file=data_root + 'val/annotations.json')
test_evaluator = val_evaluator
