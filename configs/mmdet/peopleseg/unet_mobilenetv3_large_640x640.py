# People-seg UNet, mobilenetv3_large_100 encoder, 640x640 inputs.
_base_ = './unet_b0_640x640.py'

model = dict(encoder='mobilenetv3_large_100')
