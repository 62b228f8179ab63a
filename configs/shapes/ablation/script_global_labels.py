# Ablation: the baseline (global_labels.py) trained as the released script's
# preset (../ccd_shapesml.py) trains, head lr x10 and positive CAM x3 from
# epoch 0, still without debias, label update or consistency: the script's
# Table 2 rows differ from it by the method's parts alone.
_base_ = ['./global_labels.py', '../../_base_/methods/ccd_script_values.py']

model = _base_.ccd_script_values.model
optim_wrapper = _base_.ccd_script_values.optim_wrapper
default_hooks = dict(warmup=_base_.ccd_script_values.default_hooks.warmup)
