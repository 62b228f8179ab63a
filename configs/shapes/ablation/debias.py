# Ablation: the baseline (global_labels.py) with the class-bias correction
# of CCD 3.3, no label update, no consistency.
_base_ = ['./global_labels.py']

train_dataloader = dict(dataset=dict(target_transform=dict(debias=True)))
