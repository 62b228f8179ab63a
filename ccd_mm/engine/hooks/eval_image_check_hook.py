from mmengine.hooks import Hook
from mmengine.runner import Runner
from mmpretrain.registry import HOOKS

from ccd_mm.datasets.image_files import missing_image_paths


@HOOKS.register_module()
class EvalImageCheckHook(Hook):
    """Fail before training or testing starts when an evaluation split lists
    image files that are absent.

    Missing training images are harmless (the labeling pass skips them with
    a count), but an evaluation split with holes would either crash at the
    first validation, after an epoch of training (mmpretrain's ``VOC`` checks
    no image file at construction), or silently change the metric. This
    hook checks every ``img_path`` of the validation split before the first
    epoch and of the test split before testing, and raises
    ``FileNotFoundError`` with the count and a few paths.
    """

    priority = 'HIGHEST'

    def before_train(self, runner: Runner) -> None:
        if runner.val_loop is not None:
            self._check(runner.val_loop.dataloader.dataset, 'validation')

    def before_test(self, runner: Runner) -> None:
        self._check(runner.test_loop.dataloader.dataset, 'test')

    @staticmethod
    def _check(dataset, split: str) -> None:
        img_paths = [
            dataset.get_data_info(i)['img_path'] for i in range(len(dataset))
        ]
        missing = missing_image_paths(img_paths)
        if missing:
            raise FileNotFoundError(
                f'{len(missing)} of the {len(img_paths)} images of the '
                f'{split} split ({type(dataset).__name__}) are missing, e.g. '
                f'{missing[:3]}; restore them or remove them from the '
                'annotation files')
