# A trained RT-DETR-R18 (../rtdetr/rtdetr_r18_1xb4-36e_coco-person.py) stays frozen; only the RHIS-B0 head
# trains, on jittered GT boxes and on the detector's own boxes matched to GT. Give the detector weights with
#   --cfg-options model.detector_checkpoint=work_dirs/rtdetr_r18/epoch_36.pth
_base_ = './rhis-b0_rtdetr-r18_1xb4-36e_coco-person.py'

model = dict(mode='frozen', train_rois='both', detector_checkpoint=None)
optim_wrapper = dict(optimizer=dict(lr=1e-3), paramwise_cfg=dict(_delete_=True, norm_decay_mult=0.0))
