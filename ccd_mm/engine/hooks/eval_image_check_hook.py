from mmengine.hooks import Hook
from mmengine.runner import Runner
from mmpretrain.registry import HOOKS

from ccd_mm.datasets.image_decoder import DEFAULT_MAX_PIXELS, ImageDecoder
from ccd_mm.datasets.image_files import missing_image_paths
from ccd_mm.datasets.undecodable_images import undecodable_images


@HOOKS.register_module()
class EvalImageCheckHook(Hook):
    """Fail before training or testing starts when an evaluation split lists
    image files that are absent or that its pipeline cannot decode.

    Missing or broken training images are harmless (the labeling pass skips
    them, named), but an evaluation split with holes would either crash at
    the first validation, after the teacher's pass and an epoch of training
    (mmpretrain's ``VOC`` checks no image file at construction; OpenCV's
    ``!buf.empty()`` names no file), or silently change the metric. This
    hook checks every ``img_path`` of the validation split before the first
    epoch and of the test split before testing: it raises
    ``FileNotFoundError`` with the count and a few paths if files are
    missing, else decodes every image with the split pipeline's own decoder
    (its ``LoadImageFromFile``) and raises ``RuntimeError`` naming the
    undecodable ones and why. Every image is decoded in full, since an
    empty or truncated file can have a readable header: this costs about
    one pass of the split's loading, spread over ``num_workers``.

    Args:
        max_image_pixels (int): images whose header declares more pixels
            are refused, as by ``CLIPPseudoLabelDataset``. Defaults to
            ``DEFAULT_MAX_PIXELS`` (89,478,485, PIL's default limit).
        num_workers (int): DataLoader workers that decode. Defaults to 2.
    """

    priority = 'HIGHEST'

    def __init__(self,
                 max_image_pixels: int = DEFAULT_MAX_PIXELS,
                 num_workers: int = 2):
        self.max_image_pixels = max_image_pixels
        self.num_workers = num_workers

    def before_train(self, runner: Runner) -> None:
        if runner.val_loop is not None:
            self._check(runner.val_loop.dataloader.dataset, 'validation')

    def before_test(self, runner: Runner) -> None:
        self._check(runner.test_loop.dataloader.dataset, 'test')

    def _check(self, dataset, split: str) -> None:
        img_paths = [
            dataset.get_data_info(i)['img_path'] for i in range(len(dataset))
        ]
        owner = f'{split} split ({type(dataset).__name__})'
        missing = missing_image_paths(img_paths)
        if missing:
            raise FileNotFoundError(
                f'{len(missing)} of the {len(img_paths)} images of the '
                f'{owner} are missing, e.g. {missing[:3]}; restore them or '
                'remove them from the annotation files')
        decoder = ImageDecoder.from_pipeline(dataset.pipeline,
                                             self.max_image_pixels)
        broken = undecodable_images(img_paths, decoder, self.num_workers)
        if broken:
            examples = '; '.join(f'{path} ({reason})'
                                 for path, reason in broken[:3])
            raise RuntimeError(
                f'{len(broken)} of the {len(img_paths)} images of the '
                f'{owner} cannot be decoded by its pipeline, e.g. '
                f'{examples}; replace them or remove them from the '
                'annotation files')
