# Stage-1 distillation: a trained EfficientNet-B7 people-seg UNet (frozen) teaches a B0 student, letterboxed to 320.
#   loss = (1 - a) * (BCE + Tversky on GT) + a * T^2 * binary KL at temperature T, T from 10 to 1 (cosine).
# Train the teacher with configs/mmdet/peopleseg/peopleseg-unet_b7_1xb4-50e_coco-person-lb320.py, then pass its checkpoint:
#   mim train mmdet configs/mmdet/kd/kd_peopleseg-unet-b7-to-b0_1xb4-50e_coco-person-lb320.py --cfg-options model.teacher_checkpoint=<teacher.pth>
_base_ = '../peopleseg/peopleseg-unet_b0_1xb4-50e_coco-person-lb320.py'

model = dict(
    type='PeopleSegDistiller',
    teacher=dict(encoder='efficientnet_b7'),
    teacher_checkpoint=None,
    kd_weight=0.5,
    feature_weight=0.0)     # > 0 adds decoder feature matching (1x1 adapters + MSE) at feature_levels
custom_hooks = [
    dict(type='DistillationScheduleHook', temperature=dict(start=10.0, end=1.0, kind='cosine')),
    {{_base_.boundary_loss_hook}},
]
