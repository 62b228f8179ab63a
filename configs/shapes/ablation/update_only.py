# Ablation (CCD Table 2, "+ label update"): the baseline's global labels and
# the classifier-guided label update (CCD 3.2), without debias or
# consistency; the weak view alone is served.
_base_ = ['./label_update.py']

train_dataloader = dict(dataset=dict(target_transform=dict(debias=False)))
