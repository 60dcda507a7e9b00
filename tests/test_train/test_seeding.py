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


def _weights_under_contention(seeding_module) -> list[bool]:
    """Build a seeded network 60 times while another thread keeps seeding and drawing from the same
    process-wide generators (as a second grading worker does); for each build, whether its weights are
    the ones the seed gives when nothing else runs."""
    import threading

    def build():
        with seeding_module.seeded(1):
            return nn.Linear(256, 256).weight.detach().clone()

    expected = build()
    stop = threading.Event()

    def other_worker():
        while not stop.is_set():
            with seeding_module.seeded(999):
                torch.rand(2000)

    import sys

    thread = threading.Thread(target=other_worker)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)          # threads take turns often, as they do on a busy machine
    thread.start()
    try:
        return [torch.equal(build(), expected) for _ in range(60)]
    finally:
        stop.set()
        thread.join()
        sys.setswitchinterval(interval)


def test_seeded_weights_do_not_depend_on_another_thread(monkeypatch):
    """Do two grading threads that seed the process-wide generators at the same time each get the weights
    their own seed gives, with the lock or the block's own generator? (Without both, the other thread's
    seed lands between this one's seeding and its draws: the check below fails then, which it shows first.)"""
    import contextlib

    from dlgrade.train import seeding

    def no_own_generator(seed):
        return contextlib.nullcontext()

    with monkeypatch.context() as mp:
        mp.setattr(seeding, "GLOBAL_RNG", contextlib.nullcontext())
        mp.setattr(seeding, "OwnGenerator", no_own_generator)
        assert not all(_weights_under_contention(seeding)), "the race did not show: the test cannot tell"
    for name, replacement in (("GLOBAL_RNG", contextlib.nullcontext()), ("OwnGenerator", no_own_generator)):
        with monkeypatch.context() as mp:
            mp.setattr(seeding, name, replacement)
            assert all(_weights_under_contention(seeding)), f"without {name}"
    assert all(_weights_under_contention(seeding))


def test_seed_torch_leaves_every_generator_dlgrade_uses_as_manual_seed_does(monkeypatch):
    """Is the CPU generator in the state ``torch.manual_seed`` gives, and are CUDA and MPS seeded too where
    they are available (as dlgrade computes on them)?"""
    from dlgrade.train.seeding import seed_torch

    torch.manual_seed(7)
    want = torch.get_rng_state()
    torch.manual_seed(0)
    seeded_devices = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "manual_seed_all", lambda seed: seeded_devices.append(("cuda", seed)))
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    monkeypatch.setattr(torch.mps, "manual_seed", lambda seed: seeded_devices.append(("mps", seed)))
    seed_torch(7)
    assert torch.equal(torch.get_rng_state(), want)
    assert seeded_devices == [("cuda", 7), ("mps", 7)]


def _built_while_another_thread_draws(seeding_module) -> torch.Tensor:
    """The weights of a layer built under ``seeded(1)`` while, between the seeding and the building,
    another thread draws from torch's process-wide generator without the lock (a hidden test building
    its own module in a second grading thread)."""
    import threading

    go, drawn = threading.Event(), threading.Event()

    def other_thread():
        go.wait()
        nn.Linear(32, 32)
        drawn.set()

    thread = threading.Thread(target=other_thread)
    thread.start()
    with seeding_module.seeded(1):
        go.set()
        assert drawn.wait(10)
        weight = nn.Linear(16, 16).weight.detach().clone()
    thread.join()
    return weight


def test_seeded_weights_do_not_depend_on_an_unlocked_draw_in_another_thread(monkeypatch):
    """Does a seeded block build the weights its seed gives even when another thread draws from torch's
    process-wide generator in the middle of it, without taking the lock? (The lock holds back only the
    code that takes it; without the block's own generator the check below fails, which it shows first.)"""
    import contextlib

    from dlgrade.train import seeding

    alone = build_seeded(nn.Linear, 1, 16, 16).weight.detach().clone()
    with monkeypatch.context() as mp:
        mp.setattr(seeding, "OwnGenerator", lambda seed: contextlib.nullcontext())
        assert not torch.equal(_built_while_another_thread_draws(seeding), alone), "the race did not show"
    assert torch.equal(_built_while_another_thread_draws(seeding), alone)


def test_own_generator_draws_what_manual_seed_gives():
    """Do layers and random functions in a seeded block give the numbers of torch's process-wide
    generator after torch.manual_seed (so seeded weights did not change with the block's own generator)?"""
    def draw():
        layers = nn.Sequential(nn.Linear(6, 5), nn.Conv2d(3, 4, 3), nn.BatchNorm1d(5), nn.Embedding(7, 3),
                               nn.LSTM(3, 4))
        x = torch.empty(4, 4)
        return [*layers.parameters(), torch.randn(3), torch.rand(2), torch.randint(0, 9, (4,)), torch.randperm(6),
                x.uniform_(), x.clone().normal_(), torch.bernoulli(torch.full((5,), 0.5)),
                torch.nn.init.trunc_normal_(torch.empty(3, 3)), torch.nn.init.orthogonal_(torch.empty(3, 3))]

    torch.manual_seed(5)
    want = draw()
    with seeded(5):
        got = draw()
    assert all(torch.equal(a, b) for a, b in zip(want, got, strict=True))


def test_shared_draws_records_only_unlocked_draws_from_the_process_wide_generator():
    """Does SharedDraws record a module built or a dropout run outside the lock, with where it was called,
    and nothing for seeded blocks, the lock, an explicit generator, eval mode or a paused block?"""
    from dlgrade.train.seeding import GLOBAL_RNG, SharedDraws

    with SharedDraws() as draws:
        nn.Linear(3, 4)                                   # two draws: weight and bias
        with seeded(1):
            nn.Linear(3, 4), torch.randn(3)
        with GLOBAL_RNG:
            torch.randn(2)
        torch.randperm(5, generator=torch.Generator())
        nn.Dropout(0.5).eval()(torch.ones(3))
        with draws.pause():
            torch.randn(2)
        nn.Dropout(0.5)(torch.ones(3))
    names = [f.split(" at ")[0] for f in draws.found]
    assert names == ["kaiming_uniform_", "uniform_", "dropout"]
    assert all(f.split(" at ")[1].startswith(__file__) for f in draws.found), draws.found
