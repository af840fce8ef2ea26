# RHIS-B7 head (128x96 ROIs) on GT boxes.
_base_ = './rhis_b0_gtbox.py'
model = dict(roi_head=dict(preset='rhis_b7_128x96'))
