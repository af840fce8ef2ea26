# COCO-format person instances laid out as <data_root>/{train,val}/annotations.json + images/.
# data_root defaults to the synthetic set (tools/make_synthetic.py); point it elsewhere with the RHIS_DATA_ROOT
# environment variable (e.g. RHIS_DATA_ROOT=../shared/data/pennfudan/), or override single fields with
# --cfg-options (then also set val_evaluator.ann_file and test_evaluator.ann_file).
dataset_type = 'CocoDataset'
data_root = '{{$RHIS_DATA_ROOT:data/synthetic/}}'
metainfo = dict(classes=('person', ), palette=[(220, 20, 60)])
backend_args = None
image_size = (640, 640)

# Resize stays at index 2 of both pipelines: tests and users override its scale by index.
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=image_size, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
# Test-time annotations feed the gt_boxes mode (oracle boxes), so they are loaded before Resize and follow the
# image to the input size; detectors ignore them, and CocoMetric reads the original ones from ann_file.
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=image_size, keep_ratio=True),
    dict(type='MarkAnnotated'),      # raw images (no annotations at all) are an error in gt_boxes mode
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'annotated')),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        ann_file='train/annotations.json',
        data_prefix=dict(img='train/images/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=1),
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

val_evaluator = dict(
    type='CocoMetric', ann_file=data_root + 'val/annotations.json', metric=['bbox', 'segm'],
    format_only=False, backend_args=backend_args)
test_evaluator = val_evaluator
