# RHIS-B1 head (80x60 ROIs) on GT boxes.
_base_ = './rhis_b0_gtbox.py'
model = dict(roi_head=dict(preset='rhis_b1_80x60'))
