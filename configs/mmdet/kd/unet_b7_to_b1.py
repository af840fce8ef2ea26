# Stage-1 distillation: B7 people-seg UNet teaches a B1 student (see unet_b7_to_b0.py).
_base_ = './unet_b7_to_b0.py'

model = dict(encoder='efficientnet_b1')
