import copy
from collections import Counter
from typing import List, Optional, Sequence, Union

import torch
from mmengine.dataset import BaseDataset, force_full_init
from mmpretrain.registry import DATASETS, TRANSFORMS

from .image_decoder import DEFAULT_MAX_PIXELS, ImageDecoder
from .prompt_templates import checked_prompt_templates
from .pseudo_label_table import PseudoLabelTable

# Annotation keys of the wrapped split that must never reach the loss.
GROUND_TRUTH_KEYS = ('gt_label', 'gt_score', 'gt_label_difficult', 'gt_bboxes')


def class_name_file(dataset: dict) -> Optional[str]:
    """The class-name file a dataset config names (``classes=PATH`` or
    ``metainfo=dict(classes=PATH)``), if any."""
    classes = dataset.get('classes') or dataset.get('metainfo',
                                                    {}).get('classes')
    return classes if isinstance(classes, str) else None


def checked_class_names(classes, name_file: Optional[str] = None) -> List[str]:
    """The class names of a split's ``metainfo['classes']``, refused when
    the teacher could not prompt with them.

    A folder of images (``CustomDataset(with_label=False)``) has only the
    class names it is given, as a list or as a text file with one name per
    line. mmengine reads ``metainfo=dict(classes=PATH)`` only when the file
    exists and otherwise keeps the path itself as the classes (with a
    warning), which would make each of its characters a class; a blank line
    of the file would be a class without a name.

    Args:
        classes: the split's ``metainfo['classes']``.
        name_file (str, optional): the class-name file they were read from,
            for the messages. Defaults to None.

    Raises:
        ValueError: no classes (an empty class-name file), a string instead
            of names, or names that are empty or repeated.
    """
    if classes is None:
        raise ValueError(
            'the dataset names no classes: give it classes=[...] or '
            'classes=PATH of a text file with one class name per line')
    if isinstance(classes, str):
        raise ValueError(
            f'the dataset\'s classes are the string {classes!r}, not a list '
            'of names: a class-name file that does not exist?')
    names = list(classes)
    if not names and name_file:
        raise ValueError(f'the class-name file {name_file} is empty, so the '
                         'dataset has no classes: write one class name per '
                         'line')
    if not names:
        raise ValueError('the dataset\'s list of class names is empty: give '
                         'it classes=[...] with one name per class')
    empty = [index for index, name in enumerate(names) if not name.strip()]
    if empty:
        raise ValueError(f'class names {empty} (0-based) are empty: a blank '
                         'line in the class-name file?')
    repeated = sorted(name for name, count in Counter(names).items()
                      if count > 1)
    if repeated:
        raise ValueError(f'class names given more than once: {repeated}')
    return names


@DATASETS.register_module()
class CLIPPseudoLabelDataset:
    """Serve a training split with CLIP pseudo-labels instead of its labels.

    The wrapper drops the split's annotations (``gt_label`` and friends) from
    every sample, injects what the teacher said about the image from the
    shared :class:`PseudoLabelTable` and turns it into the training target
    ``gt_score`` with ``target_transform`` (``DebiasPseudoLabel``), all
    *before* the inner pipeline runs. The same transform gives
    :meth:`current_targets` for the whole table.

    The table is filled by ``CLIPInitialLabelHook`` and updated by
    ``CAMLabelUpdateHook``; it is created in :meth:`full_init`, before any
    DataLoader worker starts, so persistent workers see every update.

    Injected keys: ``clip_scores``, ``clip_bias``, ``clip_local_scores``
    (after a label update), one key per extra table field, and ``gt_score``.

    A target transform is a registered transform that sets ``gt_score``
    from those keys and also implements ``batch_targets(table) -> (N, C)``
    and ``label_stages(table) -> {stage: (N, C)}``; the further table
    fields its method needs are its ``table_fields``, which the table is
    created with.

    Args:
        dataset (BaseDataset | dict): The training split to label. Its
            ``pipeline`` is the training pipeline.
        class_prompts (Sequence[str], optional): The class names as the
            teacher's prompts say them (e.g. 'potted plant' for VOC's
            'pottedplant'), in class order. Defaults to the dataset's classes.
        prompt_templates (Sequence[str]): Prompt templates, '{}' standing for
            the class name (CCD: 'a photo of the {}.'; NUS-WIDE uses
            'a photo of a {}.'). Defaults to ('a photo of the {}.',).
        target_transform (dict): Turns the table's scores into the
            target. Defaults to ``dict(type='DebiasPseudoLabel')`` (paper
            values).
        extra_table_fields (Sequence[str]): (N, C) fields of the table
            beyond those of the target transform, for hooks of one's own.
            Defaults to ().
        max_image_pixels (int): The labeling passes (teacher, CAM update,
            label-free scoring) skip an image whose header declares more
            pixels (width x height), without decoding it, and name it in
            ``undecodable_images.txt``; raise it for datasets of larger
            images. Defaults to ``DEFAULT_MAX_PIXELS`` (89,478,485, PIL's
            default limit).
        lazy_init (bool): Defer :meth:`full_init`. Defaults to False.

    Notes:
        Wrap only the training split: mmpretrain metrics prefer ``gt_score``
        over ``gt_label``, so pseudo-labels on a val/test split would make
        the evaluation compare against them.
        Images the labeling pass could not decode are marked invalid in the
        table; asking for one serves the next valid image instead, so the
        epoch length (fixed by the sampler) does not change. An image that
        fails in the pipeline later (removed or emptied during the run) is
        an error naming its file.
    """

    def __init__(self,
                 dataset: Union[BaseDataset, dict],
                 class_prompts: Optional[Sequence[str]] = None,
                 prompt_templates: Sequence[str] = ('a photo of the {}.', ),
                 target_transform: Optional[dict] = None,
                 extra_table_fields: Sequence[str] = (),
                 max_image_pixels: int = DEFAULT_MAX_PIXELS,
                 lazy_init: bool = False):
        name_file = None
        if isinstance(dataset, dict):
            name_file = class_name_file(dataset)
            dataset = DATASETS.build(dataset)
        if not isinstance(dataset, BaseDataset):
            raise TypeError('dataset must be a BaseDataset or its config, '
                            f'got {type(dataset)}')
        self.dataset = dataset
        classes = checked_class_names(
            dataset.metainfo.get('classes'), name_file)
        self.class_prompts = list(class_prompts or classes)
        if len(self.class_prompts) != len(classes):
            raise ValueError(f'{len(self.class_prompts)} class prompts for '
                             f'{len(classes)} classes')
        self.prompt_templates = checked_prompt_templates(prompt_templates)
        self.target_transform = TRANSFORMS.build(
            target_transform or dict(type='DebiasPseudoLabel'))
        declared = tuple(getattr(self.target_transform, 'table_fields', ()))
        self.extra_table_fields = declared + tuple(
            name for name in extra_table_fields if name not in declared)
        self.max_image_pixels = max_image_pixels
        self._metainfo = self.dataset.metainfo
        self.label_table: Optional[PseudoLabelTable] = None
        self._fully_initialized = False
        if not lazy_init:
            self.full_init()

    @property
    def metainfo(self) -> dict:
        return copy.deepcopy(self._metainfo)

    @property
    def pipeline(self):
        return self.dataset.pipeline

    @property
    def image_decoder(self) -> ImageDecoder:
        """The training pipeline's decoder, for the labeling passes: the
        teacher sees the pixels the classifier trains on; images over
        ``max_image_pixels`` are refused undecoded."""
        return ImageDecoder.from_pipeline(self.dataset.pipeline,
                                          self.max_image_pixels)

    def full_init(self) -> None:
        if self._fully_initialized:
            return
        self.dataset.full_init()
        self.label_table = PseudoLabelTable(self.image_paths(),
                                            len(self._metainfo['classes']),
                                            self.extra_table_fields)
        self._fully_initialized = True

    def image_paths(self) -> List[str]:
        """Paths of the images in dataset order (what the teacher labels)."""
        self.dataset.full_init()
        return [
            self.dataset.get_data_info(i)['img_path']
            for i in range(len(self.dataset))
        ]

    @force_full_init
    def current_targets(self) -> torch.Tensor:
        """The (N, C) training targets of every image, as the pipeline would
        produce them (used by label-free model selection)."""
        return self.target_transform.batch_targets(self.label_table)

    @force_full_init
    def __len__(self) -> int:
        return len(self.dataset)

    @force_full_init
    def get_data_info(self, idx: int) -> dict:
        """The inner data info with its annotations removed."""
        info = self.dataset.get_data_info(idx)
        for key in GROUND_TRUTH_KEYS:
            info.pop(key, None)
        return info

    def teacher_config(self, teacher: dict) -> dict:
        """``teacher`` completed with this dataset's prompts."""
        return dict(
            teacher,
            class_names=self.class_prompts,
            templates=self.prompt_templates)

    def _served_index(self, idx: int) -> int:
        valid = self.label_table.valid
        if valid[idx]:
            return idx
        candidates = torch.nonzero(valid).flatten()
        if len(candidates) == 0:
            raise RuntimeError('no training image could be decoded')
        later = candidates[candidates > idx]
        return int(later[0] if len(later) else candidates[0])

    @force_full_init
    def __getitem__(self, idx: int) -> dict:
        table = self.label_table
        if not bool(table.labeled):
            raise RuntimeError(
                'CLIPPseudoLabelDataset has no labels yet: add a '
                'CLIPInitialLabelHook to the hooks (it labels the '
                'training images before the first epoch)')
        idx = self._served_index(idx)
        info = self.get_data_info(idx)
        info['clip_scores'] = table.global_scores[idx].clone()
        info['clip_bias'] = table.bias.clone()
        info['clip_local_scores'] = (
            table.local_scores[idx].clone()
            if table.update_epoch >= 0 else None)
        for name in self.extra_table_fields:
            info[name] = table.fields[name][idx].clone()
        sample = self.target_transform(info)
        try:
            return self.dataset.pipeline(sample)
        except Exception as error:
            # The file decoded for the teacher; it may have changed since,
            # and OpenCV's own messages do not name it.
            raise RuntimeError(
                f'the training pipeline failed on {info["img_path"]}: '
                f'{type(error).__name__}: {error}') from error

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(dataset={self.dataset!r}, '
                f'num_images={len(self) if self._fully_initialized else "?"})')
