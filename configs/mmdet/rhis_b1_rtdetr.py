# RT-DETR-R18 + RHIS-B1 (80x60 ROIs), joint.
_base_ = './rhis_rtdetr.py'
model = dict(roi_head=dict(preset='rhis_b1_80x60'))
