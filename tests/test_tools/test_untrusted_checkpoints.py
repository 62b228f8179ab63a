"""Every tool on checkpoints it must refuse: one whose unpickling runs code
(refused, nothing run), and one of another model (refused, not evaluated
with random weights)."""
import os

import pytest
import torch

from ccd_mm.datasets.shapesml_generator import SHAPESML_CLASSES
from ccd_mm.engine import (CheckpointMismatchError, UntrustedCheckpointError,
                           load_checkpoint_file)
from tests.fixtures.ccd_tool_run import shared_ccd_run
from tests.fixtures.code_running_pickle import (write_code_running_checkpoint,
                                                write_code_running_polyglot)
from tests.fixtures.tools import load_tool


@pytest.fixture(scope='module')
def run(tmp_path_factory, tiny_clip_resnet):
    return shared_ccd_run(tmp_path_factory, tiny_clip_resnet)


def one_test_image(run):
    return os.path.join(run.data_root, 'images', 'test', '000000.png')


def tool_arguments(tool, run, checkpoint, out_dir):
    """The command line of ``tool`` reading ``checkpoint``."""
    return dict(
        test=[run.config, checkpoint, '--work-dir', out_dir],
        infer=[checkpoint, one_test_image(run)],
        eval_pseudo_labels=[
            run.config, checkpoint, '--out', f'{out_dir}/report.json'
        ],
        visualize=['labels', run.config, checkpoint, '--out-dir', out_dir],
    )[tool]


# tools/train.py --resume PATH hands PATH to the runner (test_checkpoint_
# loaders.py: test_resume_through_train_tool), whose resume and load_from
# refuse such a file (test_load_from_and_resume_refuse_code).
@pytest.mark.parametrize('tool',
                         ['test', 'infer', 'eval_pseudo_labels', 'visualize'])
@pytest.mark.parametrize('file_format', ['zip', 'plain'])
def test_code_running_checkpoint_runs_no_code(run, tmp_path, tool,
                                              file_format):
    marker = tmp_path / 'code_ran'
    checkpoint = str(
        write_code_running_checkpoint(tmp_path / 'evil.pth', marker,
                                      file_format))
    with pytest.raises(UntrustedCheckpointError) as error:
        load_tool(tool).main(
            tool_arguments(tool, run, checkpoint, str(tmp_path / 'out')))
    assert not marker.exists()
    assert checkpoint in str(error.value)
    assert f'trusted://{checkpoint}' in str(error.value)


def resized_head_checkpoint(run, path, num_classes):
    """The run's checkpoint with a head for ``num_classes`` classes."""
    checkpoint = load_checkpoint_file(run.checkpoint)
    weights = checkpoint['state_dict']
    for name in ('head.cam_conv.weight', 'head.cam_conv.bias'):
        shape = weights[name].shape
        weights[name] = torch.zeros(num_classes, *shape[1:])
    torch.save(checkpoint, path)
    return str(path), tuple(weights['head.cam_conv.weight'].shape)


@pytest.mark.parametrize('tool', ['test', 'infer'])
def test_checkpoint_of_another_head_is_refused(run, tmp_path, tool):
    checkpoint, shape = resized_head_checkpoint(run, tmp_path / 'coco.pth', 80)
    with pytest.raises(CheckpointMismatchError) as error:
        load_tool(tool).main(
            tool_arguments(tool, run, checkpoint, str(tmp_path / 'out')))
    message = str(error.value)
    assert message.startswith(f'{checkpoint} is not a checkpoint of this')
    assert f'head.cam_conv.weight {shape} in the file, (12, ' in message


def test_clip_weight_file_is_refused(run, tiny_clip_resnet):
    # infer.py makes the check of tools/test.py; a weight file stores no
    # config.
    clip_weights = tiny_clip_resnet['pretrained']
    with pytest.raises(CheckpointMismatchError) as error:
        load_tool('infer').main(
            [clip_weights,
             one_test_image(run), '--config', run.config])
    message = str(error.value)
    assert message.startswith(f'{clip_weights} is not a checkpoint of this')
    assert 'missing from the file: backbone.conv1.weight' in message
    assert 'unknown to the model: ' in message


def checkpoint_with_class_names(run, path, classes):
    """The run's checkpoint with other class names stored in its meta."""
    checkpoint = load_checkpoint_file(run.checkpoint)
    checkpoint['meta']['dataset_meta'] = dict(
        checkpoint['meta']['dataset_meta'], classes=tuple(classes))
    torch.save(checkpoint, path)
    return str(path)


def other_dataset_names():
    """The run's class names with class 3 renamed, as another dataset's."""
    names = list(SHAPESML_CLASSES)
    names[3] = 'cow'
    return names


@pytest.mark.parametrize('tool', ['test', 'infer'])
def test_checkpoint_of_other_class_names_is_refused(run, tmp_path, tool):
    checkpoint = checkpoint_with_class_names(run, tmp_path / 'other.pth',
                                             other_dataset_names())
    with pytest.raises(CheckpointMismatchError) as error:
        load_tool(tool).main(
            tool_arguments(tool, run, checkpoint, str(tmp_path / 'out')))
    message = str(error.value)
    assert message.startswith(f'{checkpoint} was trained on other class')
    assert (f"class 3 (0-based) is 'cow' in the checkpoint, "
            f'{SHAPESML_CLASSES[3]!r} in the config') in message
    assert '--ignore-class-names' in message


@pytest.mark.parametrize('tool', ['test', 'infer'])
def test_five_class_names_for_a_twelve_class_head_are_refused(
        run, tmp_path, tool):
    checkpoint = checkpoint_with_class_names(run, tmp_path / 'five.pth',
                                             SHAPESML_CLASSES[:5])
    with pytest.raises(CheckpointMismatchError) as error:
        load_tool(tool).main(
            tool_arguments(tool, run, checkpoint, str(tmp_path / 'out')))
    message = str(error.value)
    assert message.startswith(
        f'{checkpoint} stores 5 class names ({list(SHAPESML_CLASSES[:3])}...)'
        ' for a head of 12 classes')
    assert '--ignore-class-names' in message


@pytest.mark.parametrize('names', ['other', 'five'])
def test_infer_with_ignore_class_names_prints_the_config_names(
        run, tmp_path, capsys, names):
    classes = other_dataset_names() if names == 'other' else \
        SHAPESML_CLASSES[:5]
    checkpoint = checkpoint_with_class_names(run, tmp_path / 'other.pth',
                                             classes)
    load_tool('infer').main([
        checkpoint,
        one_test_image(run), '--topk', '12', '--ignore-class-names'
    ])
    printed = capsys.readouterr().out
    assert all(name in printed for name in SHAPESML_CLASSES)
    assert 'cow' not in printed


def test_test_with_ignore_class_names_evaluates(run, tmp_path):
    checkpoint = checkpoint_with_class_names(run, tmp_path / 'other.pth',
                                             other_dataset_names())
    out = tmp_path / 'metrics.json'
    load_tool('test').main(
        tool_arguments('test', run, checkpoint, str(tmp_path / 'out')) +
        ['--ignore-class-names', '--out',
         str(out), '--out-item', 'metrics'])
    assert out.exists()


def test_code_running_teacher_weights_run_no_code(run, tmp_path):
    # A pickle with a TorchScript-looking zip appended, as teacher weights.
    marker = tmp_path / 'code_ran'
    weights = write_code_running_polyglot(tmp_path / 'RN50x64.pt', marker)
    with pytest.raises(ValueError) as error:
        load_tool('make_pseudo_labels').main([
            run.config, '--out',
            str(tmp_path / 'labels.pth'), '--cfg-options',
            f'default_hooks.initial_labels.teacher.pretrained={weights}'
        ])
    assert not marker.exists()
    assert str(error.value).startswith(f'{weights} cannot be loaded')
    assert f'trusted://{weights}' in str(error.value)
