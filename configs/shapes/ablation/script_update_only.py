# Ablation (CCD Table 2, "+ label update") with the released script's values:
# the global labels and the label update, without debias or consistency.
_base_ = ['./script_label_update.py']

train_dataloader = dict(dataset=dict(target_transform=dict(debias=False)))
