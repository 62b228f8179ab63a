# CDUL 4.1: learning rate 1e-5 on every dataset, 20 epochs, results reported
# at epoch 20 (no model selection). The optimizer is not stated; Adam, as in
# the CCD setup, keeps the two methods comparable.
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-5))
param_scheduler = []
train_cfg = dict(by_epoch=True, max_epochs=20, val_interval=1)
# lr was set for 1 GPU x 8 images on VOC (x 16 on COCO and NUS-WIDE); scale
# with --auto-scale-lr.
auto_scale_lr = dict(base_batch_size=8, enable=False)
