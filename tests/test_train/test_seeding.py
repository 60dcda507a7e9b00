"""seeded() and build_seeded(): does a seed fix the initial weights without disturbing the caller?"""
from __future__ import annotations

import random

import numpy as np
import torch
from torch import nn

from dlgrade.train import build_seeded, seeded


def weights(model: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def test_same_seed_same_initial_weights():
    """Do two models built under the same seed start identical, and under another seed differ?"""
    a, b, c = build_seeded(nn.Linear, 1, 5, 3), build_seeded(nn.Linear, 1, 5, 3), build_seeded(nn.Linear, 2, 5, 3)
    assert torch.equal(weights(a), weights(b))
    assert not torch.equal(weights(a), weights(c))


def test_numpy_and_random_seeded_too():
    """Are numpy and random seeded inside the block, for builders that draw from them?"""
    with seeded(4):
        first = (random.random(), np.random.rand())
    with seeded(4):
        assert (random.random(), np.random.rand()) == first


def test_caller_streams_restored():
    """After the block, do torch, numpy and random continue exactly where the caller left them?"""
    def draw():
        return torch.rand(2).tolist(), np.random.rand(2).tolist(), random.random()

    torch.manual_seed(10), np.random.seed(10), random.seed(10)
    expected = draw()
    torch.manual_seed(10), np.random.seed(10), random.seed(10)
    with seeded(99):
        nn.Linear(8, 8)
    assert draw() == expected
