"""tools/infer.py on a checkpoint of the tiny CCD run: top classes per image
as the model's own test path computes them, printed and written to JSON and
CSV, with the config taken from the checkpoint or given."""
import csv
import json
import os
import shutil

import pytest
import torch

from ccd_mm.datasets.shapesml_generator import SHAPESML_CLASSES
from tests.fixtures.ccd_tool_run import shared_ccd_run
from tests.fixtures.tools import load_tool

TOPK = 3


@pytest.fixture(scope='module')
def run(tmp_path_factory, tiny_clip_resnet):
    return shared_ccd_run(tmp_path_factory, tiny_clip_resnet)


def model_test_scores(runner):
    """image path -> class probabilities, through the runner's test loader
    and the trained model (what tools/test.py evaluates)."""
    model = runner.model
    model.eval()
    scores = {}
    with torch.no_grad():
        for batch in runner.build_dataloader(runner.cfg.test_dataloader):
            for sample in model.test_step(batch):
                scores[sample.img_path] = sample.pred_score
    return scores


@pytest.fixture(scope='module')
def predictions(run, tmp_path_factory):
    out_dir = tmp_path_factory.mktemp('infer')
    test_images = os.path.join(run.data_root, 'images', 'test')
    one_image = os.path.join(test_images, '000003.png')
    infer = load_tool('infer')
    infer.main([
        run.checkpoint, test_images, one_image, '--topk',
        str(TOPK), '--out',
        str(out_dir / 'top.json')
    ])
    infer.main([
        run.checkpoint, one_image, '--config', run.config, '--topk',
        str(TOPK), '--out',
        str(out_dir / 'top.csv')
    ])
    with open(out_dir / 'top.csv') as file:
        rows = list(csv.DictReader(file))
    return json.loads((out_dir / 'top.json').read_text()), rows


def test_folder_and_file_arguments_give_one_entry_per_image(predictions, run):
    entries, _ = predictions
    test_images = sorted(
        os.listdir(os.path.join(run.data_root, 'images', 'test')))
    assert [os.path.basename(e['image']) for e in entries] == \
        test_images + ['000003.png']
    for entry in entries:
        scores = [top['score'] for top in entry['top']]
        assert len(scores) == TOPK and scores == sorted(scores, reverse=True)
        assert all(top['class'] in SHAPESML_CLASSES for top in entry['top'])


def test_scores_are_the_model_test_scores(predictions, run):
    entries, _ = predictions
    expected = model_test_scores(run.runner)
    for entry in entries:
        probabilities = expected[entry['image']]
        best = probabilities.argsort(descending=True)[:TOPK]
        assert [top['class'] for top in entry['top']] == \
            [SHAPESML_CLASSES[i] for i in best]
        # Other batches than the test loop's: float32 kernels of other
        # shapes move a sigmoid score by a few hundred ulps at most
        # (tests/fixtures/tolerances.py), far below 1e-5.
        assert [top['score'] for top in entry['top']] == pytest.approx(
            probabilities[best].tolist(), abs=1e-5)


def test_csv_with_given_config_matches_json(predictions):
    entries, rows = predictions
    assert [row['rank'] for row in rows] == ['1', '2', '3']
    reference = entries[-1]  # the same image, config from the checkpoint
    assert [row['class'] for row in rows] == \
        [top['class'] for top in reference['top']]
    # The same scores, through the CSV's decimal text.
    assert [float(row['score']) for row in rows
            ] == pytest.approx([top['score'] for top in reference['top']],
                               abs=1e-6)


def test_printed_lines_name_image_and_classes(run, capsys):
    image = os.path.join(run.data_root, 'images', 'test', '000000.png')
    load_tool('infer').main([run.checkpoint, image, '--topk', '2'])
    line = [
        text for text in capsys.readouterr().out.splitlines()
        if text.startswith(image)
    ]
    assert len(line) == 1
    names = line[0].split(': ', 1)[1].split(', ')
    assert len(names) == 2
    assert all(name.rsplit(' ', 1)[0] in SHAPESML_CLASSES for name in names)


def test_bad_output_extension_is_refused(run):
    with pytest.raises(SystemExit):
        load_tool('infer').parse_args(
            [run.checkpoint, 'x.png', '--out', 'top.txt'])


@pytest.mark.parametrize('content', [None, 'notes.txt'])
def test_folder_without_images_exits_with_a_message(run, tmp_path, content):
    folder = tmp_path / 'folder'
    folder.mkdir()
    if content:
        (folder / content).write_text('no image here')
    with pytest.raises(SystemExit) as exit_info:
        load_tool('infer').main([run.checkpoint, str(folder)])
    assert 'no image files (.jpg' in str(exit_info.value.code)
    assert str(folder) in str(exit_info.value.code)


def test_unreadable_image_is_reported_and_the_others_predicted(
        run, tmp_path, capfd):
    folder = tmp_path / 'images'
    folder.mkdir()
    test_images = os.path.join(run.data_root, 'images', 'test')
    for name in ('000000.png', '000002.png'):
        shutil.copy(os.path.join(test_images, name), folder / name)
    (folder / '000001.png').write_bytes(b'not an image' * 10)
    out = tmp_path / 'missing' / 'dir' / 'top.json'
    with pytest.raises(SystemExit) as exit_info:
        load_tool('infer').main(
            [run.checkpoint,
             str(folder), '--topk', '2', '--out',
             str(out)])
    bad = str(folder / '000001.png')
    assert exit_info.value.code == f'1 of 3 images could not be decoded: {bad}'
    stdout, stderr = capfd.readouterr()
    # stdout: one line per predicted image and nothing else.
    lines = stdout.splitlines()
    assert [line.split(': ')[0] for line in lines] == \
        [str(folder / '000000.png'), str(folder / '000002.png')]
    assert all(len(line.split(': ')[1].split(', ')) == 2 for line in lines)
    assert f'skipped: cannot decode {bad}' in stderr
    assert [entry['image'] for entry in json.loads(out.read_text())] == \
        [str(folder / '000000.png'), str(folder / '000002.png')]
