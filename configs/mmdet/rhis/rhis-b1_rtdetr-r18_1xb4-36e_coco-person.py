# RT-DETR-R18 + RHIS-B1 (80x60 ROIs), joint.
_base_ = './rhis-b0_rtdetr-r18_1xb4-36e_coco-person.py'
model = dict(roi_head=dict(preset='rhis_b1_80x60', peopleseg_checkpoint='work_dirs/unet_b1/epoch_50.pth'))  # stage 1 first
