"""Seeding model construction, so that a seed fixes the initial weights.

:func:`fit` takes a model that is already built. Build it under :func:`seeded` (or with
:func:`build_seeded`) so that the same seed gives the same initial weights::

    with seeded(3):
        model = make_mlp()
    fit(model, data, recipe, seed=3)
"""
from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import numpy as np
import torch

T = TypeVar("T")

GLOBAL_RNG = threading.RLock()
"""Held while a block seeds and draws from the process-wide generators (torch, numpy, random).

Grading threads of one batch share the process: without it, one thread's ``manual_seed`` or
restored state lands between another's seeding and its draws, and a network's initial weights
(so its trained accuracy) would depend on what the other worker was doing."""


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed ``torch`` (CPU and CUDA), ``numpy`` and ``random`` with ``seed`` inside the block.

    The previous generator states are restored on exit, so seeding here does not change
    what the caller's code draws afterwards. Other threads wait (:data:`GLOBAL_RNG`) while the
    block runs.
    """
    cuda_devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    with GLOBAL_RNG:
        py_state = random.getstate()
        np_state = np.random.get_state()
        with torch.random.fork_rng(devices=cuda_devices):
            seed_torch(seed)
            random.seed(seed)
            np.random.seed(seed % 2**32)
            try:
                yield
            finally:
                random.setstate(py_state)
                np.random.set_state(np_state)


def seed_torch(seed: int) -> None:
    """Seed torch's generators on the devices dlgrade computes on (``dlgrade.device``): the CPU, and
    CUDA and MPS where they are available, as ``torch.manual_seed(seed)`` leaves them. That function
    also queues the seed for accelerator kinds dlgrade never uses (XPU, MTIA) and for CUDA on a machine
    without it, recording a stack trace for each: a quarter of a millisecond per call."""
    torch.default_generator.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        torch.mps.manual_seed(seed)


def build_seeded(fn: Callable[..., T], seed: int, *args, **kwargs) -> T:
    """Call ``fn(*args, **kwargs)`` under :func:`seeded` and return what it builds."""
    with seeded(seed):
        return fn(*args, **kwargs)
