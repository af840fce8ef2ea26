# People-seg UNet, mobilenetv3_large_100 encoder, 640x640 inputs.
_base_ = './peopleseg-unet_b0_1xb2-50e_coco-person-640x640.py'

model = dict(encoder='mobilenetv3_large_100')
