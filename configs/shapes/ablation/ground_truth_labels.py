# Headroom, REPORT ONLY (trains on the train split's ground truth): the
# classifier of the baseline, same schedule, on the split's own labels
# instead of pseudo-labels. How much better labels can buy in this world.
_base_ = ['./global_labels.py']

train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='ShapesML',
        data_root=_base_.data_root,
        split='train',
        pipeline=_base_.one_view_train_pipeline))
# The head's target gt_score, from gt_label.
data_preprocessor = dict(to_onehot=True)
# Only the runtime's hooks: the method's need the pseudo-label wrapper.
default_hooks = dict(
    _delete_=True,
    **{
        name: hook
        for name, hook in _base_.default_hooks.items()
        if name not in ('initial_labels', 'label_update', 'warmup',
                        'label_free_checkpoint', 'pseudo_label_stats')
    })
