# Stage-2 distillation: a trained RHIS-B7 head (128x96 ROIs, frozen) teaches RHIS-B0 (64x48) on the same ROIs,
#   loss = (1 - a) * RHIS losses + a * T^2 * KL of the 3-class softmax at temperature T, T from 10 to 1.
# Train the teacher with configs/mmdet/rhis/rhis-b7_gt-boxes_1xb4-36e_coco-person.py, then:
#   mim train mmdet configs/mmdet/kd/kd_rhis-b7-to-b0_gt-boxes_1xb4-36e_coco-person.py --cfg-options model.roi_head.teacher_checkpoint=<teacher.pth>
_base_ = '../rhis/rhis-b0_gt-boxes_1xb4-36e_coco-person.py'

model = dict(
    roi_head=dict(
        type='RHISDistillRoIHead',
        teacher_preset='rhis_b7_128x96',
        teacher_checkpoint=None,
        kd_weight=0.5,
        feature_weight=0.0))
custom_hooks = [dict(type='DistillationScheduleHook', temperature=dict(start=10.0, end=1.0, kind='cosine'))]
