# Stage-1 distillation: B7 people-seg UNet teaches a B1 student (see kd_peopleseg-unet-b7-to-b0_1xb4-50e_coco-person-lb320.py).
_base_ = './kd_peopleseg-unet-b7-to-b0_1xb4-50e_coco-person-lb320.py'

model = dict(encoder='efficientnet_b1')
