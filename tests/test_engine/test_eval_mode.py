import pytest
import torch

from ccd_mm.engine.eval_mode import eval_mode


@pytest.mark.parametrize('training', [True, False])
def test_eval_mode_restores_the_previous_mode(training):
    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2))
    model.train(training)
    with eval_mode(model) as inside:
        assert inside is model
        assert not model.training and not model[1].training
        assert not torch.is_grad_enabled()
        out = model(torch.ones(3, 2))
    assert not out.requires_grad
    assert model.training == training and model[1].training == training
    assert torch.is_grad_enabled()


def test_eval_mode_restores_training_when_the_pass_raises():
    model = torch.nn.Linear(2, 2).train()
    with pytest.raises(RuntimeError):
        with eval_mode(model):
            raise RuntimeError('labeling failed')
    assert model.training
