# RT-DETR-R18 + RHIS-B0 (64x48 ROIs), trained jointly: detector and mask head losses summed.
_base_ = [
    '../_base_/models/rtdetr_r18.py', '../_base_/datasets/coco_person.py', '../_base_/schedules/adamw_36e.py',
    '../_base_/default_runtime.py'
]
model = dict(
    _delete_=True,
    type='RHISDetector',
    backbone=dict(),     # empty: mmdet's init_detector reads model.backbone (see RHISDetector)
    mode='joint',
    data_preprocessor={{_base_.model.data_preprocessor}},
    detector={{_base_.model}},
    roi_head=dict(type='RHISRoIHead', preset='rhis_b0_64x48', person_labels=[0],
                  peopleseg_checkpoint='work_dirs/unet_b0/epoch_50.pth'))  # stage 1 first (../peopleseg/)

# The head learns from scratch faster than the detector fine-tunes.
optim_wrapper = dict(paramwise_cfg=dict(
    _delete_=True, norm_decay_mult=0.0,
    custom_keys={'detector.backbone': dict(lr_mult=0.1), 'roi_head': dict(lr_mult=10.0)}))
