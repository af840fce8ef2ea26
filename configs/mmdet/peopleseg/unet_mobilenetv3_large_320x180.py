# People-seg UNet, mobilenetv3_large_100 encoder, 320x180 inputs.
_base_ = './unet_b0_320x180.py'

model = dict(encoder='mobilenetv3_large_100')
