"""fit(): does the engine train correctly, reproducibly, and stop when it should?"""
from __future__ import annotations

import time
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dlgrade.errors import DlgradeError
from dlgrade.train import EpochMetrics, Recipe, build_seeded, evaluate, fit, seeded

CPU = "cpu"


def fitted_state(make_mlp, data, recipe, seed):
    model = build_seeded(make_mlp, 0, n_in=8, hidden=16, n_out=3, act=nn.ReLU, dropout=0.3)
    fit(model, data, recipe, seed=seed, device=CPU)
    return model.state_dict()


def test_same_seed_same_weights(make_mlp, make_recipe, blob_data):
    """Do two fits with the same seed and initial weights end with bitwise identical weights (dropout included)?"""
    a = fitted_state(make_mlp, blob_data, make_recipe(), seed=5)
    b = fitted_state(make_mlp, blob_data, make_recipe(), seed=5)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_other_seed_other_weights(make_mlp, make_recipe, blob_data):
    """Does changing the seed (batch order, dropout) change the trained weights?"""
    a = fitted_state(make_mlp, blob_data, make_recipe(), seed=5)
    b = fitted_state(make_mlp, blob_data, make_recipe(), seed=6)
    assert not all(torch.equal(a[k], b[k]) for k in a)


def test_caller_random_stream_untouched(make_mlp, make_recipe, blob_data):
    """Does fit leave the global torch generator where the caller had it?"""
    model = make_mlp(n_in=8, n_out=3, dropout=0.5)
    torch.manual_seed(123)
    expected = torch.rand(4)
    torch.manual_seed(123)
    fit(model, blob_data, make_recipe(), seed=9, device=CPU)
    assert torch.equal(torch.rand(4), expected)


def test_matches_plain_pytorch_loop(make_mlp, xor):
    """Oracle: is full-batch SGD through fit bitwise the same as a hand-written PyTorch loop?"""
    X, y = xor
    ours, theirs = (build_seeded(make_mlp, 1) for _ in range(2))
    fit(ours, xor, Recipe(optimizer="sgd", lr=0.5, momentum=0.9, batch_size=1, epochs=5, full_batch=True),
        device=CPU)
    opt = torch.optim.SGD(theirs.parameters(), lr=0.5, momentum=0.9)
    for _ in range(5):
        opt.zero_grad()
        F.cross_entropy(theirs(X), y).backward()
        opt.step()
    assert all(torch.equal(p, q) for p, q in zip(ours.parameters(), theirs.parameters()))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_learns_xor(make_mlp, xor, seed):
    """Does a 2-4-2 tanh MLP (two logits) learn XOR exactly, full batch, SGD lr 0.5, 2000 steps?"""
    model = build_seeded(make_mlp, seed)
    result = fit(model, xor, Recipe(optimizer="sgd", lr=0.5, batch_size=4, epochs=2000, full_batch=True),
                 seed=seed, device=CPU)
    assert (result.stopped, result.steps, len(result.history)) == ("completed", 2000, 2000)
    assert evaluate(model, xor, device=CPU) == 1.0


@pytest.mark.slow
def test_learns_digits(make_mlp, digits):
    """Does a tiny MLP reach over 85% on 1,000 held-out real digits after 2 epochs on 4,000?"""
    train, test = digits
    model = build_seeded(make_mlp, 0, n_in=784, hidden=64, n_out=10, act=nn.ReLU)
    result = fit(model, train, Recipe(optimizer="adam", lr=1e-3, batch_size=64, epochs=2), device=CPU,
                 eval_data=test)
    assert result.stopped == "completed"
    assert result.final.eval_acc > 0.85
    assert result.final.eval_acc == evaluate(model, test, device=CPU)


def test_history_and_counts(make_mlp, make_recipe, blob_data):
    """Does the result hold one EpochMetrics per epoch, with steps adding up (96 examples, batch 16 -> 6/epoch)?"""
    result = fit(make_mlp(n_in=8, n_out=3), blob_data, make_recipe(epochs=3), device=CPU, eval_data=blob_data)
    assert [m.epoch for m in result.history] == [1, 2, 3]
    assert all(isinstance(m, EpochMetrics) and m.steps == 6 and m.eval_acc is not None for m in result.history)
    assert result.steps == result.total_steps == 18
    assert result.device == "cpu"
    assert result.to_dict()["history"][0]["epoch"] == 1


def test_partial_last_batch(make_mlp, make_recipe, blob_data):
    """Is a last, smaller batch still trained on (96 examples, batch 40 -> 3 steps)?"""
    result = fit(make_mlp(n_in=8, n_out=3), blob_data, make_recipe(batch_size=40, epochs=1), device=CPU)
    assert result.steps == 3


def test_budget_stops_cleanly(make_mlp, make_recipe, blob_data):
    """Does a tiny wall-clock budget stop training early with reason "budget" and a usable model?"""

    class Slow(nn.Module):
        def forward(self, x):
            time.sleep(0.02)
            return x

    model = nn.Sequential(Slow(), make_mlp(n_in=8, n_out=3))
    model.eval()
    result = fit(model, blob_data, make_recipe(epochs=5, max_seconds=0.05), device=CPU)
    assert result.stopped == "budget"
    assert len(result.history) < 5 and result.steps < result.total_steps
    assert not model.training  # the caller's mode is back
    assert 0.0 <= evaluate(model, blob_data, device=CPU) <= 1.0


def test_divergence_detected(make_mlp, blob_data):
    """Is SGD at lr=1e3 reported as "diverged" and stopped well before the end?"""
    model = build_seeded(make_mlp, 0, n_in=8, hidden=16, n_out=3, act=nn.ReLU)
    result = fit(model, blob_data, Recipe(optimizer="sgd", lr=1e3, batch_size=4, epochs=20), device=CPU)
    assert result.stopped == "diverged"
    assert result.steps < result.total_steps


def test_nan_loss_is_divergence(make_mlp, make_recipe, blob_data):
    """Is a loss that is NaN from the first step reported as "diverged"?"""
    X, y = blob_data
    X = X.clone()
    X[0, 0] = float("nan")
    result = fit(make_mlp(n_in=8, n_out=3), (X, y), make_recipe(batch_size=96, full_batch=True, epochs=50),
                 device=CPU)
    assert result.stopped == "diverged"
    assert result.steps < 50


def test_sound_training_is_not_divergence(make_mlp, blob_data):
    """Does an ordinary, converging run finish as "completed"?"""
    result = fit(make_mlp(n_in=8, n_out=3), blob_data, Recipe(optimizer="sgd", lr=0.1, batch_size=8, epochs=5),
                 device=CPU)
    assert result.stopped == "completed"


@pytest.mark.parametrize("start_training", [True, False])
def test_trains_in_train_mode_and_restores(make_mlp, make_recipe, blob_data, start_training):
    """Are steps taken in train mode, and is the caller's mode restored afterwards?"""
    seen = []

    class Spy(nn.Module):
        def forward(self, x):
            seen.append(self.training)
            return x

    model = nn.Sequential(Spy(), make_mlp(n_in=8, n_out=3))
    model.train(start_training)
    fit(model, blob_data, make_recipe(epochs=1), device=CPU)
    assert seen and all(seen)
    assert model.training is start_training


def test_progress_callback(make_mlp, make_recipe, blob_data):
    """Is progress called once per step with the running totals and the last epoch's figures?"""
    calls = []
    fit(make_mlp(n_in=8, n_out=3), blob_data, make_recipe(epochs=2), device=CPU,
        progress=lambda step, total, metrics: calls.append((step, total, dict(metrics))))
    assert [c[0] for c in calls] == list(range(1, 13))
    assert {c[1] for c in calls} == {12}
    assert calls[0][2] == {"epoch": 1}
    assert calls[-1][2]["epoch"] == 2 and "train_loss" in calls[-1][2] and "train_acc" in calls[-1][2]


def test_accepts_dataset_numpy_and_uint8(make_mlp, make_recipe, blob_data):
    """Does fit take a dataset-like object (.train/.test), NumPy arrays and uint8 inputs alike?"""
    X, y = blob_data
    dataset = SimpleNamespace(train=(X.numpy(), y.numpy()), test=(X, y))
    result = fit(make_mlp(n_in=8, n_out=3), dataset, make_recipe(), device=CPU, eval_data=dataset)
    assert result.final.eval_acc is not None
    images = (X.abs() * 20).clamp(max=255).to(torch.uint8)
    assert fit(make_mlp(n_in=8, n_out=3), (images, y), make_recipe(), device=CPU).stopped == "completed"


def test_recipe_as_mapping(make_mlp, blob_data):
    """Is a plain dict recipe validated and used?"""
    result = fit(make_mlp(n_in=8, n_out=3), blob_data,
                 {"optimizer": "adamw", "lr": 1e-2, "batch_size": 32, "epochs": 1, "weight_decay": 0.1}, device=CPU)
    assert result.steps == 3


def test_mse_loss_trains(make_mlp, blob_data):
    """Does the "mse" loss (one-hot targets) reduce the loss on separable blobs?"""
    model = build_seeded(make_mlp, 0, n_in=8, hidden=16, n_out=3, act=nn.ReLU)
    result = fit(model, blob_data, Recipe(optimizer="adam", lr=1e-2, batch_size=16, epochs=10, loss="mse"),
                 device=CPU)
    assert result.history[-1].train_loss < result.history[0].train_loss


def test_clip_grad_norm_bounds_the_step(make_mlp, xor):
    """Oracle: with SGD (lr 1) and clipping at 1e-3, does one step move the weights by at most 1e-3 in norm?"""
    model = build_seeded(make_mlp, 0)
    before = torch.cat([p.detach().flatten().clone() for p in model.parameters()])
    fit(model, xor, Recipe(optimizer="sgd", lr=1.0, batch_size=4, epochs=1, clip_grad_norm=1e-3), device=CPU)
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    assert 0 < (after - before).norm() <= 1e-3 * (1 + 1e-5)


def test_labels_out_of_range(make_mlp, make_recipe, blob_data):
    """Is a label the model cannot output reported in one clear line?"""
    X, y = blob_data
    with pytest.raises(DlgradeError, match="labels run from 0 to 2, but the model outputs 2 classes"):
        fit(make_mlp(n_in=8, n_out=2), (X, y), make_recipe(), device=CPU)


def test_single_output_refused(make_mlp, make_recipe, xor):
    """Is a model with one output column refused with a message saying why?"""
    with pytest.raises(DlgradeError, match="one score per class"):
        fit(make_mlp(n_out=1), xor, make_recipe(), device=CPU)


@pytest.mark.parametrize("data, says", [
    (object(), "expected an \\(X, y\\) pair or a dataset with a .train attribute"),
    ((torch.zeros(4, 2), torch.zeros(3, dtype=torch.int64)), "labels y must have shape \\(4,\\)"),
    ((torch.zeros(0, 2), torch.zeros(0, dtype=torch.int64)), "the train data is empty"),
    ((np.zeros((4, 2)), np.array([0.5, 1, 0, 1])), "class indices"),
])
def test_bad_data(make_mlp, make_recipe, data, says):
    """Is malformed training data refused with a DlgradeError that says what is wrong?"""
    with pytest.raises(DlgradeError, match=says):
        fit(make_mlp(), data, make_recipe(), device=CPU)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_bf16_learns(make_mlp, blob_data):
    """On CUDA (bf16 autocast, fused Adam), does the engine still learn the blobs?"""
    with seeded(0):
        model = make_mlp(n_in=8, hidden=32, n_out=3, act=nn.ReLU)
    result = fit(model, blob_data, Recipe(optimizer="adam", lr=1e-2, batch_size=16, epochs=10), device="cuda",
                 eval_data=blob_data)
    assert result.device.startswith("cuda") and result.stopped == "completed"
    assert result.final.eval_acc > 0.9


@pytest.mark.parametrize("name, cls", [("adam", torch.optim.Adam), ("adamw", torch.optim.AdamW),
                                       ("sgd", torch.optim.SGD)])
def test_optimizer_follows_recipe(name, cls):
    """Does the recipe's optimiser come out with its learning rate, momentum and weight decay?"""
    from dlgrade.train.engine import make_optimizer

    momentum = 0.5 if name == "sgd" else 0.0
    opt = make_optimizer(nn.Linear(2, 2).parameters(),
                         Recipe(optimizer=name, lr=0.3, batch_size=1, epochs=1, momentum=momentum, weight_decay=0.01))
    group = opt.param_groups[0]
    assert type(opt) is cls
    assert (group["lr"], group["weight_decay"]) == (0.3, 0.01)
    assert group.get("momentum", 0.0) == momentum
