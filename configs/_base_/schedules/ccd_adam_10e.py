# CCD 4.1: learning rate 1e-5 on every dataset, batch 16, up to 10 epochs,
# the final model chosen by the label-free rule (LabelFreeCheckpointHook).
# The optimizer is not stated in the paper; Adam is the released script's.
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-5))
param_scheduler = []
train_cfg = dict(by_epoch=True, max_epochs=10, val_interval=1)
# lr was set for 1 GPU x 16 images; scale with --auto-scale-lr.
auto_scale_lr = dict(base_batch_size=16, enable=False)
