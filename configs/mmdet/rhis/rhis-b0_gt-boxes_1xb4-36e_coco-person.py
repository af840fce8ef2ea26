# RHIS-B0 head alone on GT boxes (no detector): oracle-box mask AP.
_base_ = ['../_base_/datasets/coco_person.py', '../_base_/schedules/adamw_36e.py', '../_base_/default_runtime.py']

model = dict(
    type='RHISDetector',
    backbone=dict(),     # empty: mmdet's init_detector reads model.backbone (see RHISDetector)
    mode='gt_boxes',
    data_preprocessor=dict(type='DetDataPreprocessor', mean=[0.0, 0.0, 0.0], std=[255.0, 255.0, 255.0],
                           bgr_to_rgb=True, pad_size_divisor=32),
    roi_head=dict(type='RHISRoIHead', preset='rhis_b0_64x48', person_labels=[0],
                  peopleseg_checkpoint='work_dirs/unet_b0/epoch_50.pth'))  # stage 1 first (../peopleseg/)

optim_wrapper = dict(optimizer=dict(lr=1e-3), clip_grad=dict(max_norm=1.0),
                     paramwise_cfg=dict(_delete_=True, norm_decay_mult=0.0))
