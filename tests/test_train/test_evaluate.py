"""evaluate(), predict(), count_parameters(): right numbers, eval mode, no autograd graph."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from torch import nn

from dlgrade.errors import DlgradeError
from dlgrade.train import count_parameters, evaluate, predict

CPU = "cpu"


def identity_classifier() -> nn.Linear:
    """Predicts the class whose input coordinate is largest."""
    model = nn.Linear(3, 3)
    with torch.no_grad():
        model.weight.copy_(torch.eye(3))
        model.bias.zero_()
    return model


class ModeSpy(nn.Module):
    """Records, at each forward pass, whether it is in training mode and whether autograd is on, and
    the batch's size and whether it is channels-last."""

    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner = inner
        self.calls: list[tuple[bool, bool]] = []
        self.batches: list[tuple[int, bool]] = []

    def forward(self, x):
        self.calls.append((self.training, torch.is_grad_enabled()))
        self.batches.append((x.shape[0], x.ndim == 4 and x.is_contiguous(memory_format=torch.channels_last)))
        return self.inner(x)


@pytest.mark.parametrize("batch_size", [1, 3, 1024])
def test_accuracy_oracle(batch_size):
    """Oracle: with an argmax-of-inputs model and 7 of 10 labels matching, is the accuracy exactly 0.7, whatever the batching?"""
    X = torch.randn(10, 3, generator=torch.Generator().manual_seed(0))
    y = X.argmax(dim=1).clone()
    y[:3] = (y[:3] + 1) % 3
    assert evaluate(identity_classifier(), (X, y), device=CPU, batch_size=batch_size) == pytest.approx(0.7)


def test_uses_test_split_of_a_dataset():
    """Given a dataset-like object, is its .test split the one evaluated?"""
    X = torch.eye(3)
    dataset = SimpleNamespace(train=(X, torch.tensor([1, 2, 0])), test=(X, torch.tensor([0, 1, 2])))
    assert evaluate(identity_classifier(), dataset, device=CPU) == 1.0


@pytest.mark.parametrize("start_training", [True, False])
def test_evaluate_eval_mode_no_grad_and_restores(start_training):
    """Does evaluate run in eval mode without autograd, then give back the caller's mode?"""
    model = ModeSpy(identity_classifier())
    model.train(start_training)
    evaluate(model, (torch.eye(3), torch.arange(3)), device=CPU, batch_size=2)
    assert model.calls == [(False, False), (False, False)]
    assert model.training is start_training
    assert torch.is_grad_enabled()


def test_mode_restored_when_forward_fails():
    """If the model raises mid-evaluation, is its training mode still restored?"""

    class Broken(nn.Module):
        def forward(self, x):
            raise RuntimeError("boom")

    model = Broken().train()
    with pytest.raises(RuntimeError, match="boom"):
        evaluate(model, (torch.eye(3), torch.arange(3)), device=CPU)
    assert model.training


def test_predict_oracle_and_discipline():
    """Oracle: are predict's logits exactly the model's outputs, on the CPU, with no graph, mode restored?"""
    inner = nn.Sequential(nn.Linear(4, 5), nn.Dropout(0.5), nn.Linear(5, 3))
    model = ModeSpy(inner).train()
    X = torch.randn(7, 4)
    logits = predict(model, X, device=CPU, batch_size=3)
    assert logits.device.type == "cpu" and logits.dtype == torch.float32
    assert not logits.requires_grad and logits.grad_fn is None
    inner.eval()
    with torch.no_grad():
        torch.testing.assert_close(logits, inner(X))
    assert all(call == (False, False) for call in model.calls) and len(model.calls) == 3
    assert model.training


def test_single_output_model_refused():
    """Is accuracy refused, with a reason, for a model with a single output column?"""
    with pytest.raises(DlgradeError, match=r"one score per class.*got shape \(3, 1\)"):
        evaluate(nn.Linear(3, 1), (torch.eye(3), torch.arange(3)), device=CPU)


def test_count_parameters_oracle():
    """Oracle: is the lesson MLP's count 784*512+512 + 512*256+256 + 256*10+10, frozen ones excluded, shared once?"""
    lesson = nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Dropout(0.2),
                           nn.Linear(512, 256), nn.ReLU(), nn.Dropout(0.2), nn.Linear(256, 10))
    assert count_parameters(lesson) == 784 * 512 + 512 + 512 * 256 + 256 + 256 * 10 + 10 == 535_818
    lesson[1].requires_grad_(False)
    assert count_parameters(lesson) == 512 * 256 + 256 + 256 * 10 + 10
    shared = nn.Linear(4, 4)
    assert count_parameters(nn.Sequential(shared, shared)) == 20



def test_images_on_the_cpu_go_in_cache_sized_channels_last_batches():
    """Asked for channels-last, do CPU image batches hold at most CPU_BATCH_VALUES inputs each, channels-last,
    with the logits of one whole-batch pass (to float rounding) and in the same order?"""
    from dlgrade.train import evaluation

    torch.manual_seed(0)
    cnn = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 256, 10))
    spy = ModeSpy(cnn)
    X = torch.rand(300, 3, 32, 32)
    got = predict(spy, X, device=CPU, channels_last=True)
    rows = evaluation.CPU_BATCH_VALUES // (3 * 32 * 32)
    assert [n for n, _ in spy.batches] == [rows] * (300 // rows) + [300 % rows]
    assert all(layout for _, layout in spy.batches)
    with torch.no_grad():
        whole = cnn.eval()(X)
    assert torch.allclose(got, whole, atol=1e-5)
    assert torch.equal(got.argmax(1), whole.argmax(1))


def test_flat_inputs_keep_their_layout_and_the_callers_smaller_batch():
    """Does a batch of vectors stay as it is, and does a batch_size under the CPU cap win?"""
    spy = ModeSpy(identity_classifier())
    predict(spy, torch.rand(10, 3), device=CPU, batch_size=4)
    assert [n for n, _ in spy.batches] == [4, 4, 2]


class ViewAfterConv(nn.Module):
    """A CNN as students write it: ``x.view(x.size(0), -1)`` after the convolution."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.fc = nn.Linear(4 * 30 * 30, 10)

    def forward(self, x):
        x = self.conv(x)
        return self.fc(x.view(x.size(0), -1))


def test_a_forward_that_views_its_feature_maps_runs_by_default():
    """By default, do images keep their layout, so that x.view after a convolution works, in batches?"""
    spy = ModeSpy(ViewAfterConv())
    X = torch.rand(200, 3, 32, 32)
    got = predict(spy, X, device=CPU)
    assert got.shape == (200, 10)
    assert not any(layout for _, layout in spy.batches) and len(spy.batches) > 1
    with torch.no_grad():
        assert torch.allclose(got, spy.inner.eval()(X), atol=1e-5)
