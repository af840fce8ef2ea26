# RT-DETR-R18 person detector alone: train it, then hand its checkpoint to rhis/rhis-b0_rtdetr-r18-frozen_1xb4-36e_coco-person.py.
_base_ = [
    '../_base_/models/rtdetr_r18.py', '../_base_/datasets/coco_person.py', '../_base_/schedules/adamw_36e.py',
    '../_base_/default_runtime.py'
]
val_evaluator = dict(metric=['bbox'])
test_evaluator = val_evaluator
