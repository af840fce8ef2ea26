# People-seg UNet, efficientnet_b7 encoder, 640x640 inputs.
_base_ = './peopleseg-unet_b0_1xb2-50e_coco-person-640x640.py'

model = dict(encoder='efficientnet_b7')
