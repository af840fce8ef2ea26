# People-seg UNet, efficientnet_b1 encoder, 640x640 inputs.
_base_ = './unet_b0_640x640.py'

model = dict(encoder='efficientnet_b1')
