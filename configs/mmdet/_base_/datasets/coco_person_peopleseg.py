# Binary person segmentation from the COCO-format person instances of coco_person.py (same folders, RHIS_DATA_ROOT):
# the target is the union of each image's non-crowd person masks. Images are letterboxed (aspect ratio kept, padded
# bottom-right) to a long side of working_size, the geometry RHIS runs the frozen UNet at (RHISConfig.working_size);
# predictions are scored at the original size against the original annotations (BinarySegMetric).
_base_ = './coco_person.py'

data_root = '{{$RHIS_DATA_ROOT:data/synthetic/}}'
working_size = 320
# Resize stays at index 2 of the train pipeline and index 1 of the test pipeline: size variants and tests override
# its scale by index.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=(working_size, working_size), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PeopleSegTargets', with_signed_distance=True),
    dict(type='PackPeopleSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(working_size, working_size), keep_ratio=True),
    dict(type='PackDetInputs', meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
train_dataloader = dict(dataset=dict(filter_cfg=dict(filter_empty_gt=False), pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

val_evaluator = dict(_delete_=True, type='BinarySegMetric', ann_file=data_root + 'val/annotations.json')
test_evaluator = val_evaluator
