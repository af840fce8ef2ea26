# The bundled starter model (rhislightresnarrow_lite0_64x48: its people-seg UNet and its head) on GT boxes. Needs no
# stage 1 and no work_dirs/: `mim train` fine-tunes the starter on your data (init_weights loads it).
_base_ = ['./rhis-b0_gt-boxes_1xb4-36e_coco-person.py']

model = dict(roi_head=dict(preset='rhislightresnarrow_lite0_64x48', peopleseg_checkpoint=None,
                           rhis_checkpoint='starter'))
optim_wrapper = dict(optimizer=dict(lr=2e-4))     # a fine-tune: a fifth of the from-scratch rate
