"""One-line accounts of why a weight file cannot be loaded."""
import pickle

import pytest
import torch

from ccd_mm.models.weight_file_errors import (state_dict_mismatch,
                                              weights_only_refusal)


def test_matching_weights_give_none():
    model = torch.nn.Linear(3, 2).state_dict()
    assert state_dict_mismatch(model, {k: v + 1 for k, v in model.items()}) \
        is None


def test_each_kind_of_difference_is_counted_and_quoted():
    model = dict(a=torch.zeros(2, 3), b=torch.zeros(4), c=torch.zeros(1))
    found = dict(
        a=torch.zeros(5, 3),
        b=torch.zeros(4),
        x=torch.zeros(1),
        y=torch.zeros(2))
    assert state_dict_mismatch(model, found) == (
        '1 of 3 weights with another shape: a (5, 3) in the file, (2, 3) in '
        'the model; 1 of 3 weights missing from the file: c; 2 weights of '
        'the file unknown to the model: x, y')


def test_examples_are_limited():
    model = {f'w{i}': torch.zeros(1) for i in range(10)}
    text = state_dict_mismatch(model, {}, examples=2)
    assert text == '10 of 10 weights missing from the file: w0, w1'


def test_weights_only_refusal_keeps_what_was_found(tmp_path):

    class Opens:

        def __reduce__(self):
            return open, (str(tmp_path / 'marker'), 'w')

    torch.save(dict(x=Opens()), tmp_path / 'weights.pth')
    with pytest.raises(pickle.UnpicklingError) as error:
        torch.load(tmp_path / 'weights.pth', weights_only=True)
    reason = weights_only_refusal(error.value)
    assert 'io.open' in reason and 'weights_only' not in reason
    assert not (tmp_path / 'marker').exists()
