# Ablation (CCD Table 2, "+ label update + consistency"): the label update
# and the consistency loss between the weak and strong views, without
# debias.
_base_ = ['../ccd_shapesml_paper.py']

train_dataloader = dict(dataset=dict(target_transform=dict(debias=False)))
