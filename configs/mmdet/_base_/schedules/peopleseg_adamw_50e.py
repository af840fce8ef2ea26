# AdamW with warm-up and cosine decay over 50 epochs; the boundary loss starts when val IoU plateaus (2 validations
# without +0.001), rising 1 % per epoch, with the LR divided by 10 at that point.
max_epochs = 50
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    constructor='FrozenParamsOptimWrapperConstructor',     # a frozen teacher's tensors in one log line
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=1e-4),
    clip_grad=dict(max_norm=1.0, norm_type=2),
    paramwise_cfg=dict(norm_decay_mult=0.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=200),
    dict(type='CosineAnnealingLR', eta_min=1e-6, begin=0, end=max_epochs, T_max=max_epochs, by_epoch=True,
         convert_to_iter_based=True),
]
boundary_loss_hook = dict(type='BoundaryLossHook', monitor='peopleseg/iou', patience=2, min_delta=1e-3,
                          start_weight=0.01, step=0.01, lr_factor=0.1)
custom_hooks = [boundary_loss_hook]
auto_scale_lr = dict(enable=False, base_batch_size=16)
