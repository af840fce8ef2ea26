# The people-seg UNet of RHIS's first stage, trained on BCE + Tversky (60:40); the boundary term joins when
# validation IoU plateaus (BoundaryLossHook in the schedule).
model = dict(
    type='PeopleSegmentor',
    encoder='efficientnet_b0',
    encoder_weights=None,       # 'imagenet' downloads smp's ImageNet encoder (needs internet)
    loss=dict(bce_weight=0.6, region='tversky', region_weight=0.4, tversky_alpha=0.3, tversky_beta=0.7),
    data_preprocessor=dict(type='DetDataPreprocessor', mean=[0.0, 0.0, 0.0], std=[255.0, 255.0, 255.0],
                           bgr_to_rgb=True, pad_size_divisor=1))
