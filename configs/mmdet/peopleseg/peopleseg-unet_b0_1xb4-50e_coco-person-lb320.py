# People-seg UNet (RHIS stage 1), EfficientNet-B0 encoder, letterboxed to a long side of 320 (the RHIS working size).
_base_ = ['../_base_/models/peopleseg_unet.py', '../_base_/datasets/coco_person_peopleseg.py',
          '../_base_/schedules/peopleseg_adamw_50e.py', '../_base_/default_runtime.py']

default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=2, save_best='peopleseg/iou',
                                     rule='greater'))
