# People-seg UNet, efficientnet_b7 encoder, 320x180 inputs.
_base_ = './unet_b0_320x180.py'

model = dict(encoder='efficientnet_b7')
