# RT-DETR-R18 + RHIS-B7 (128x96 ROIs), joint.
_base_ = './rhis-b0_rtdetr-r18_1xb4-36e_coco-person.py'
model = dict(roi_head=dict(preset='rhis_b7_128x96', peopleseg_checkpoint='work_dirs/unet_b7/epoch_50.pth'))  # stage 1 first
