"""Seeding model construction, so that a seed fixes the initial weights.

:func:`fit` takes a model that is already built. Build it under :func:`seeded` (or with
:func:`build_seeded`) so that the same seed gives the same initial weights::

    with seeded(3):
        model = make_mlp()
    fit(model, data, recipe, seed=3)
"""
from __future__ import annotations

import functools
import random
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import numpy as np
import torch

T = TypeVar("T")


class HeldLock:
    """A reentrant lock that tells whether this thread holds it (:meth:`held`)."""

    def __init__(self):
        self._lock = threading.RLock()
        self._depth = threading.local()

    def __enter__(self):
        self._lock.acquire()
        self._depth.n = getattr(self._depth, "n", 0) + 1
        return self

    def __exit__(self, *exc):
        self._depth.n -= 1
        self._lock.release()

    def held(self) -> bool:
        return getattr(self._depth, "n", 0) > 0


GLOBAL_RNG = HeldLock()
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

    In this thread, torch's random functions that take a ``generator`` (the initialisations of
    ``torch.nn.init``, ``Tensor.uniform_``, ``torch.randn``, ...) draw on the CPU from the block's own
    generator, seeded with ``seed``: the same numbers as from the process-wide one after
    ``torch.manual_seed(seed)``, which code in another thread can move (a hidden test building a
    module outside this block) while the lock only holds back the code that takes it.
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
                with OwnGenerator(seed):
                    yield
            finally:
                random.setstate(py_state)
                np.random.set_state(np_state)


_TENSOR_DRAWS = ("uniform_", "normal_", "random_", "bernoulli_", "exponential_", "geometric_", "log_normal_",
                 "cauchy_", "bernoulli", "multinomial")
_TORCH_DRAWS = ("rand", "randn", "randint", "randperm", "normal", "bernoulli", "multinomial", "poisson")
_INIT_DRAWS = ("uniform_", "normal_", "trunc_normal_", "kaiming_uniform_", "kaiming_normal_", "xavier_uniform_",
               "xavier_normal_", "orthogonal_", "sparse_")


@functools.cache
def _draws() -> frozenset:
    """torch's functions that draw random numbers and take a ``generator``."""
    return frozenset([getattr(torch.Tensor, n) for n in _TENSOR_DRAWS] + [getattr(torch, n) for n in _TORCH_DRAWS]
                     + [getattr(torch.nn.init, n) for n in _INIT_DRAWS])


class OwnGenerator(torch.overrides.TorchFunctionMode):
    """In this thread, while active: torch's random functions called without a ``generator`` on the CPU
    draw from this mode's own generator, seeded with ``seed``, which no other thread can move.

    A fresh generator with seed ``s`` gives the numbers the process-wide one gives after
    ``torch.manual_seed(s)``: a block that builds layers gets the weights it got from the seeded
    process-wide generator. Draws torch makes inside its C++ operations (dropout's masks) still use
    the process-wide generator."""

    def __init__(self, seed: int):
        super().__init__()
        self.generator = torch.Generator().manual_seed(int(seed))

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if kwargs.get("generator") is None and func in _draws() and _on_cpu(args, kwargs):
            kwargs = {**kwargs, "generator": self.generator}
        return func(*args, **kwargs)


def _on_cpu(args, kwargs) -> bool:
    """Do a random function's numbers go to the CPU: its first tensor argument, else its ``device``?"""
    for value in (*args, *kwargs.values()):
        if isinstance(value, torch.Tensor):
            return value.device.type == "cpu"
    device = kwargs.get("device")
    return (torch.device(device) if device is not None else torch.empty(0).device).type == "cpu"


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


_DROPOUTS = ("dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout")
"""torch.nn.functional's dropouts: ``training`` is their third argument, True unless given."""


class SharedDraws(torch.overrides.TorchFunctionMode):
    """In this thread, while active: a record (``found``, "function at file:line") of every draw from
    torch's process-wide generator made without :data:`GLOBAL_RNG`, that is, one that another grading
    thread's seeded block or dropout training could see: a random function called without a
    ``generator`` on the CPU, or a dropout (or RReLU) in training mode. :meth:`pause` for code that
    runs on the student's side of an in-process run. For exercises' authors and the tests: grading
    does not use it."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []
        self._paused = False
        functional = torch.nn.functional
        self._training_at = {getattr(functional, n): (2, True) for n in _DROPOUTS} | {functional.rrelu: (3, False)}
        """Per function that draws in training mode only: where its ``training`` argument is, and its default."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if not self._paused and not GLOBAL_RNG.held() and self._shared(func, args, kwargs):
            self.found.append(f"{getattr(func, '__name__', func)} at {_caller()}")
        return func(*args, **kwargs)

    @contextmanager
    def pause(self) -> Iterator[None]:
        """Nothing recorded inside the block."""
        was, self._paused = self._paused, True
        try:
            yield
        finally:
            self._paused = was

    def _shared(self, func, args, kwargs) -> bool:
        if func in self._training_at:
            at, default = self._training_at[func]
            return bool(kwargs.get("training", args[at] if len(args) > at else default))
        return kwargs.get("generator") is None and func in _draws() and _on_cpu(args, kwargs)


def _caller() -> str:
    """The innermost frame outside torch and this module, as ``file:line``."""
    import inspect

    frame = inspect.currentframe()
    while frame is not None and (frame.f_code.co_filename == __file__
                                 or "/torch/" in frame.f_code.co_filename.replace("\\", "/")):
        frame = frame.f_back
    return f"{frame.f_code.co_filename}:{frame.f_lineno}" if frame is not None else "?"
