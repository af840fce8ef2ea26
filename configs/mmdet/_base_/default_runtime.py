# mmdet's runtime defaults, plus the plugin import that registers RHIS, RT-DETR and the checkpoint loader.
_base_ = ['mmdet::_base_/default_runtime.py']

custom_imports = dict(imports=['rhis_plugin.mmdet'], allow_failed_imports=False)

default_hooks = dict(logger=dict(type='LoggerHook', interval=20),
                     checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3))
log_processor = dict(type='LogProcessor', window_size=20, by_epoch=True)
