# People-seg UNet, mobilenetv3_small_100 encoder, 320x180 inputs.
_base_ = './peopleseg-unet_b0_1xb4-50e_coco-person-320x180.py'

model = dict(encoder='mobilenetv3_small_100')
