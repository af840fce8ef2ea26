# Faster R-CNN (ResNet-18 FPN) with RHIS-B0 as its mask branch, in place of Mask R-CNN's FCN mask head.
_base_ = [
    'mmdet::_base_/models/faster-rcnn_r50_fpn.py', '../_base_/datasets/coco_person.py',
    '../_base_/schedules/adamw_36e.py', '../_base_/default_runtime.py'
]
model = dict(
    type='RHISTwoStageDetector',
    backbone=dict(depth=18, init_cfg=None),
    neck=dict(in_channels=[64, 128, 256, 512]),
    roi_head=dict(
        type='RHISMaskRoIHead',
        bbox_head=dict(num_classes=1),
        rhis=dict(preset='rhis_b0_64x48', person_labels=[0],
                  peopleseg_checkpoint='work_dirs/unet_b0/epoch_50.pth')))  # stage 1 first (../peopleseg/)

optim_wrapper = dict(clip_grad=dict(max_norm=10.0),
                     paramwise_cfg=dict(_delete_=True, custom_keys={'rhis_head': dict(lr_mult=10.0)}))
