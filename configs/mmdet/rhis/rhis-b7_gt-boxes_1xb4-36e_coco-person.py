# RHIS-B7 head (128x96 ROIs) on GT boxes.
_base_ = './rhis-b0_gt-boxes_1xb4-36e_coco-person.py'
model = dict(roi_head=dict(preset='rhis_b7_128x96', peopleseg_checkpoint='work_dirs/unet_b7/epoch_50.pth'))  # stage 1 first
