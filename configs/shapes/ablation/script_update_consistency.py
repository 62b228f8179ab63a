# Ablation (CCD Table 2, fourth row) of the released script's preset
# (../ccd_shapesml_script.py): the label update with the consistency loss
# between the weak and strong views, no debias.
_base_ = ['../ccd_shapesml_script.py']

train_dataloader = dict(dataset=dict(target_transform=dict(debias=False)))
