import json
import os.path as osp
from typing import Optional, Sequence, Union

import torch
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.runner import Runner
from mmpretrain.registry import HOOKS, MODELS
from mmpretrain.utils import get_ori_model

from ccd_mm.core.cam import adaptive_class_threshold, windowed_class_threshold
from ccd_mm.labeling import (LOCAL_LABELS, cam_local_scores,
                             check_pass_arguments, classifier_scores)
from ..eval_mode import eval_mode
from ..pseudo_label_dataset_lookup import find_pseudo_label_dataset
from ..teacher_config import resolve_teacher_config

# The values of class_threshold that calibrate t instead of fixing it.
ADAPTIVE_THRESHOLDS = ('adaptive', 'windowed')


@HOOKS.register_module()
class CAMLabelUpdateHook(Hook):
    """Classifier-guided label update (CCD 3.2), at the start of the epochs
    in ``update_epochs``.

    The warmed-up classifier looks at each training image (square
    ``view_size`` view); every class it finds likely gets a box from its
    class activation map (upsample, min-max normalise, threshold
    ``cam_threshold``, bounding box grown by ``box_offset`` px), the teacher
    labels each crop, and the per-class max over the crops becomes the
    image's local label (Eq. 5) in the label table. ``DebiasPseudoLabel``
    then debiases and blends it with the initial label (Eq. 6-7). The update
    is stored in the table, which checkpoints carry, so a resumed run does
    not repeat it.

    Args:
        teacher (dict, optional): Config of the teacher (``CLIPTeacher``)
            without class names and prompts, which come from the dataset
            wrapper. Defaults to None: the run config's top-level
            ``teacher``.
        update_epochs (Sequence[int]): 0-based epochs at whose start the
            update runs. Paper: (2,), after E_w = 2 warm-up epochs; the
            released script's ``inf_num`` repeats it. Defaults to (2,).
        class_threshold (float | str): t in [0, 1], the sigmoid score a class
            needs to get a crop. 'adaptive' calibrates it on
            ``adaptive_samples`` random images: the first t of a grid whose
            mean number of classes per image is below bound + 2
            (:func:`~ccd_mm.core.cam.adaptive_class_threshold`). 'windowed'
            runs the released script's procedure: one pass over the
            training images in a seeded random order, t raised by 0.001 per
            window of ``adaptive_samples`` images until a window's mean
            lies in (bound, bound + 2)
            (:func:`~ccd_mm.core.cam.windowed_class_threshold`); the images
            are scored window by window, up to the stop. Paper 0.5.
        adaptive_bound (float): The bound of the adaptive threshold.
            Defaults to 4.
        adaptive_samples (int): Images used to calibrate it ('adaptive'), or
            per window ('windowed'). Defaults to 100.
        view_size (int): Side of the classifier's square view. Paper 640.
        crop_size (int): Longer side of a crop given to the teacher (aspect
            kept). Paper 640.
        cam_threshold (float): CAM threshold in [0, 1] after min-max
            normalisation. Paper 0.95 (supplementary Fig. 7).
        box_offset (int): Pixels (>= 0) added on every side of a box, on the
            ``view_size`` view. Paper 80 on 640.
        boxes_from_scaled_cam (bool): Draw the boxes from the CAM the logits
            pool, its positive part times the head's ``positive_cam_scale``
            while that is on, as the released script does; min-max
            normalisation then thresholds a different map. False (paper)
            draws them from the unscaled CAM. Defaults to False.
        box_rule (str): How a box is read off the thresholded CAM:
            'bounding' (the region's bounding box) or 'row_major_corners'
            (the released script's corners, the first and last pixels in
            row-major order; :func:`~ccd_mm.core.cam.cam_to_boxes`).
            Defaults to 'bounding'.
        size_divisor (int): Crop sides are rounded to multiples of it so
            crops batch by shape. Defaults to 32.
        batch_size (int): Images per loader batch and classifier forward;
            crops go to the teacher in batches of its own ``batch_size``.
            Defaults to 32.
        num_workers (int): Workers that decode and crop. Defaults to 2.
        record_boxes (int): Write the boxes, classes and crop scores of this
            many images to ``cam_boxes_epoch_{e}.json`` in the work dir, for
            ``tools/visualize.py``. Defaults to 0.
        record_proposals (bool): Write every training image's boxes and
            their classes to ``cam_proposals_epoch_{e}.json`` in the work dir,
            for reports of the boxes' quality
            (:func:`ccd_mm.evaluation.cam_box_recall`). Defaults to False.
        seed (int): Seed of the adaptive threshold's image sample or order
            (``seed + epoch``). Defaults to 0.
        local_labels (str): Where a box's scores come from: 'crops' (CCD:
            the teacher on each box's crop) or 'dense' (one teacher pass
            over the whole view, its per-location embeddings averaged over
            the box, MaskCLIP's value path; needs a ModifiedResNet or ViT
            teacher). Defaults to 'crops'.
        dense_view_size (int, optional): Side of the view the dense pass
            sees; a ModifiedResNet gives one location per 32 px, a ViT one
            per patch. Defaults to None: ``crop_size``.
    """

    priority = 'HIGH'

    def __init__(self,
                 teacher: Optional[dict] = None,
                 update_epochs: Sequence[int] = (2, ),
                 class_threshold: Union[float, str] = 0.5,
                 adaptive_bound: float = 4,
                 adaptive_samples: int = 100,
                 view_size: int = 640,
                 crop_size: int = 640,
                 cam_threshold: float = 0.95,
                 box_offset: int = 80,
                 boxes_from_scaled_cam: bool = False,
                 box_rule: str = 'bounding',
                 size_divisor: int = 32,
                 batch_size: int = 32,
                 num_workers: int = 2,
                 record_boxes: int = 0,
                 record_proposals: bool = False,
                 seed: int = 0,
                 local_labels: str = 'crops',
                 dense_view_size: Optional[int] = None):
        if class_threshold not in ADAPTIVE_THRESHOLDS and not (isinstance(
                class_threshold, (int, float)) and 0 <= class_threshold <= 1):
            raise ValueError("class_threshold must lie in [0, 1] or be one "
                             f'of {ADAPTIVE_THRESHOLDS}, got '
                             f'{class_threshold!r}')
        if not 0 <= cam_threshold <= 1:
            raise ValueError(
                f'cam_threshold must lie in [0, 1], got {cam_threshold}')
        if box_rule not in ('bounding', 'row_major_corners'):
            raise ValueError("box_rule must be 'bounding' or "
                             f"'row_major_corners', got {box_rule!r}")
        if local_labels not in LOCAL_LABELS:
            raise ValueError(f'local_labels must be one of {LOCAL_LABELS}, '
                             f'got {local_labels!r}')
        if dense_view_size is not None and dense_view_size <= 0:
            raise ValueError(
                f'dense_view_size must be > 0, got {dense_view_size}')
        if box_offset < 0:
            raise ValueError(f'box_offset must be >= 0, got {box_offset}')
        if adaptive_bound <= 0:
            raise ValueError(
                f'adaptive_bound must be > 0, got {adaptive_bound}')
        if any(epoch < 0 for epoch in update_epochs) or record_boxes < 0:
            raise ValueError('update_epochs and record_boxes must be >= 0, '
                             f'got {update_epochs} and {record_boxes}')
        check_pass_arguments(
            num_workers,
            view_size=view_size,
            crop_size=crop_size,
            size_divisor=size_divisor,
            batch_size=batch_size,
            adaptive_samples=adaptive_samples)
        self.teacher = teacher
        self.update_epochs = tuple(update_epochs)
        self.class_threshold = class_threshold
        self.adaptive_bound = adaptive_bound
        self.adaptive_samples = adaptive_samples
        self.view_size = view_size
        self.crop_size = crop_size
        self.cam_threshold = cam_threshold
        self.box_offset = box_offset
        self.boxes_from_scaled_cam = boxes_from_scaled_cam
        self.box_rule = box_rule
        self.size_divisor = size_divisor
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.record_boxes = record_boxes
        self.record_proposals = record_proposals
        self.seed = seed
        self.local_labels = local_labels
        self.dense_view_size = dense_view_size

    def before_run(self, runner: Runner) -> None:
        self.teacher = resolve_teacher_config(self.teacher, runner.cfg)

    def before_train_epoch(self, runner: Runner) -> None:
        table = find_pseudo_label_dataset(runner).label_table
        if (runner.epoch in self.update_epochs
                and int(table.update_epoch) != runner.epoch):
            self.update(runner)

    def _threshold(self, classifier, dataset, epoch: int) -> float:
        if self.class_threshold not in ADAPTIVE_THRESHOLDS:
            return float(self.class_threshold)
        img_paths = dataset.image_paths()
        generator = torch.Generator().manual_seed(self.seed + epoch)
        order = torch.randperm(len(img_paths), generator=generator).tolist()

        def scores(begin: int) -> torch.Tensor:
            window = order[begin:begin + self.adaptive_samples]
            return classifier_scores(classifier,
                                     [img_paths[i] for i in window],
                                     self.view_size, self.batch_size,
                                     self.num_workers, dataset.image_decoder)

        if self.class_threshold == 'adaptive':
            return adaptive_class_threshold(scores(0), self.adaptive_bound)
        # A generator, so the windows after the stop are never scored.
        windows = (
            scores(begin)
            for begin in range(0, len(order), self.adaptive_samples))
        return windowed_class_threshold(
            windows, self.adaptive_bound, window=self.adaptive_samples)

    def update(self, runner: Runner) -> None:
        """Recompute the local labels of every training image."""
        dataset = find_pseudo_label_dataset(runner)
        table = dataset.label_table
        img_paths = dataset.image_paths()
        teacher = MODELS.build(dataset.teacher_config(self.teacher))
        with eval_mode(get_ori_model(runner.model)) as classifier:
            threshold = self._threshold(classifier, dataset, runner.epoch)
            local, stats = cam_local_scores(
                classifier,
                teacher,
                img_paths,
                view_size=self.view_size,
                crop_size=self.crop_size,
                class_threshold=threshold,
                cam_threshold=self.cam_threshold,
                box_offset=self.box_offset,
                scaled_cam=self.boxes_from_scaled_cam,
                box_rule=self.box_rule,
                batch_size=self.batch_size,
                num_workers=self.num_workers,
                size_divisor=self.size_divisor,
                show_progress=True,
                record_limit=self.record_boxes,
                keep_proposals=self.record_proposals,
                decoder=dataset.image_decoder,
                local_labels=self.local_labels,
                dense_view_size=self.dense_view_size)
        del teacher
        table.write('local_scores', local)
        table.update_epoch.fill_(runner.epoch)
        runner.logger.info(
            f'CAM label update at epoch {runner.epoch + 1}: class threshold '
            f'{threshold:.3f}, {stats["mean_crops"]:.2f} crops per image, '
            f'{stats["seconds"]:.1f} s')
        runner.message_hub.update_scalar('train/crops_per_image',
                                         stats['mean_crops'])
        if not is_main_process():
            return
        classes = list(dataset.metainfo['classes'])
        if stats['records']:
            path = osp.join(runner.work_dir,
                            f'cam_boxes_epoch_{runner.epoch + 1}.json')
            with open(path, 'w') as file:
                json.dump(
                    dict(classes=classes, records=stats['records']), file)
        if self.record_proposals:
            path = osp.join(runner.work_dir,
                            f'cam_proposals_epoch_{runner.epoch + 1}.json')
            images = [
                dict(
                    img_path=img_path,
                    boxes=proposal['boxes'].tolist(),
                    classes=proposal['classes'].tolist())
                for img_path, proposal in zip(img_paths, stats['proposals'])
            ]
            with open(path, 'w') as file:
                json.dump(
                    dict(
                        classes=classes,
                        view_size=self.view_size,
                        class_threshold=threshold,
                        images=images), file)
