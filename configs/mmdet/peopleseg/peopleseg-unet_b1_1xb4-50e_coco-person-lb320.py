# People-seg UNet, efficientnet_b1 encoder, letterboxed to 320 (the RHIS working size).
_base_ = './peopleseg-unet_b0_1xb4-50e_coco-person-lb320.py'

model = dict(encoder='efficientnet_b1')
