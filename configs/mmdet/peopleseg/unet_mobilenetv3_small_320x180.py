# People-seg UNet, mobilenetv3_small_100 encoder, 320x180 inputs.
_base_ = './unet_b0_320x180.py'

model = dict(encoder='mobilenetv3_small_100')
