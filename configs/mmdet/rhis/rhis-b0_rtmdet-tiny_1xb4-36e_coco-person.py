# RTMDet-tiny (one-stage) + RHIS-B0 (64x48 ROIs), trained jointly.
_base_ = [
    '../_base_/models/rtmdet_tiny.py', '../_base_/datasets/coco_person.py', '../_base_/schedules/adamw_36e.py',
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

optim_wrapper = dict(
    optimizer=dict(lr=1e-3),
    clip_grad=dict(max_norm=10.0),
    paramwise_cfg=dict(_delete_=True, norm_decay_mult=0.0, custom_keys={'roi_head': dict(lr_mult=5.0)}))
