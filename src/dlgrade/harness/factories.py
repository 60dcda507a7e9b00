"""Objects the grader builds inside the student's process from dlgrade's own code.

Hidden tests use them to exercise student functions with known inputs: a model
with known weights for ``train_epoch``, a probe whose output is wrong unless
the model is evaluated in eval mode under ``no_grad``, an optimizer, a loss.
Register new ones with :func:`factory`; tests ask for them by name through
``Submission.make``.

The objects below serve any exercise. One that serves a single exercise lives
in that exercise's folder, ``autograder/<ex>/factories.py``, with the same
decorator; :func:`dlgrade.harness.load_questions` loads it with the exercise's
tests or self-checks. Its source travels with each ``make`` of its objects to
the student's side (whose sandbox cannot see ``autograder/``), which runs it
in a module of its own: it is public, like the rest of this file.
"""
from __future__ import annotations

import hashlib
import threading
import types
from pathlib import Path
from typing import Callable

from dlgrade.harness.errors import StudentError

_FACTORIES: dict[str, Callable] = {}
"""dlgrade's own factories (fingerprinted by :mod:`dlgrade.harness.integrity`)."""
_EXERCISE: dict[str, tuple[Callable, str, str]] = {}
"""Factories of the exercises loaded in this process: name -> (constructor, file label, source)."""
_collecting: dict[str, Callable] | None = None
_DEFINING = threading.Lock()


def factory(name: str):
    """Register a trusted constructor under ``name`` (in an exercise's ``factories.py``: that exercise's)."""

    def deco(fn):
        if _collecting is not None:
            _collecting[name] = fn
        else:
            _FACTORIES[name] = fn
        return fn

    return deco


def get(name: str) -> Callable:
    if name in _FACTORIES:
        return _FACTORIES[name]
    if name in _EXERCISE:
        return _EXERCISE[name][0]
    raise StudentError("exception", f"unknown grader object {name!r}")


def define(source: str, label: str) -> dict[str, Callable]:
    """Run the source of an exercise's ``factories.py`` in a module of its own; the factories it registers
    (kept apart from dlgrade's own)."""
    global _collecting
    module = types.ModuleType(f"dlgrade_factories_{hashlib.sha256(source.encode()).hexdigest()[:16]}")
    module.__file__ = label
    found: dict[str, Callable] = {}
    with _DEFINING:
        _collecting = found
        try:
            exec(compile(source, label, "exec"), module.__dict__)  # noqa: S102 - the course's own code
        finally:
            _collecting = None
    return found


def load_exercise_factories(path: Path) -> list[str]:
    """Register the factories of an exercise's ``factories.py`` (the course's own, trusted); their names.

    A SpecError names the file when it cannot run or when it takes the name of one of dlgrade's own.
    """
    from dlgrade.errors import SpecError

    path = Path(path)
    label = f"{path.parent.name}/{path.name}"  # what the student's side sees of it
    try:
        source = path.read_text(encoding="utf-8")
        found = define(source, label)
    except Exception as exc:  # noqa: BLE001 - report which spec file is broken
        raise SpecError(f"{path}: could not load factories: {type(exc).__name__}: {exc}") from exc
    for name, fn in found.items():
        if name in _FACTORIES:
            raise SpecError(f"{path}: factory '{name}' is one of dlgrade's own",
                            hint="give the exercise's factory another name")
        _EXERCISE[name] = (fn, label, source)
    return sorted(found)


def exercise_source(name: str) -> tuple[str, str] | None:
    """``(file label, source)`` of the exercise factory ``name``; None for dlgrade's own (or unknown)."""
    if name in _FACTORIES or name not in _EXERCISE:
        return None
    _, label, source = _EXERCISE[name]
    return label, source


def as_module(obj):
    import torch

    if not isinstance(obj, torch.nn.Module):
        raise StudentError("bad_output", f"expected a torch.nn.Module, got {type(obj).__name__}")
    return obj


def describe(obj) -> dict:
    """Structure of an object for shape/parameter questions (plain data only)."""
    import torch

    kind = type(obj)
    out = {"type": kind.__name__, "qualname": f"{kind.__module__}.{kind.__qualname__}"}
    if isinstance(obj, torch.nn.Module):
        out["params"] = int(sum(p.numel() for p in obj.parameters() if p.requires_grad))
        out["training"] = bool(obj.training)
        modules = []
        for name, sub in obj.named_modules():
            if not name:
                continue
            entry = {"name": name, "type": type(sub).__name__,
                     "params": int(sum(p.numel() for p in sub.parameters(recurse=False)))}
            for attr in ("in_features", "out_features", "in_channels", "out_channels",
                         "kernel_size", "stride", "padding", "p"):
                value = getattr(sub, attr, None)
                if isinstance(value, (int, float, tuple)):
                    entry[attr] = list(value) if isinstance(value, tuple) else value
            modules.append(entry)
        out["modules"] = modules
    return out


def fit_summary(result) -> dict:
    """The plain-data part of a FitResult (reported by the student's process: informative only)."""
    history = [dict(vars(m)) if not hasattr(m, "_asdict") else m._asdict() for m in result.history]
    return {"seconds": float(result.seconds), "stopped": str(result.stopped),
            "steps": int(result.steps), "history": history}


# -- the objects -----------------------------------------------------------------

@factory("mlp")
def make_mlp(sizes, activation: str = "relu", dropout: float = 0.0):
    """A plain MLP ``sizes[0] -> ... -> sizes[-1]`` that flattens its input."""
    import torch.nn as nn

    acts = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
    layers: list = [nn.Flatten()]
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(int(a), int(b)))
        if i < len(sizes) - 2:
            layers.append(acts[activation]())
            if dropout:
                layers.append(nn.Dropout(float(dropout)))
    return nn.Sequential(*layers)


def _probe(in_features: int, n_classes: int, wrong_when: tuple[str, ...]):
    """A linear classifier that returns negated logits (so predicts the least likely class)
    in training mode (``"train"`` in ``wrong_when``) and/or with autograd on (``"grad"``)."""
    import torch
    import torch.nn as nn

    class Probe(nn.Module):
        def __init__(self):
            super().__init__()
            self.flatten = nn.Flatten()
            self.fc = nn.Linear(int(in_features), int(n_classes))

        def forward(self, x):
            logits = self.fc(self.flatten(x))
            wrong = ("train" in wrong_when and self.training) or ("grad" in wrong_when and torch.is_grad_enabled())
            return -logits if wrong else logits

    return Probe()


@factory("mode_probe")
def make_mode_probe(in_features: int, n_classes: int):
    """A classifier whose predictions are right only in eval mode under ``no_grad``.

    In training mode, or with autograd enabled, it predicts the class that is
    least likely, so an ``evaluate`` that forgets ``model.eval()`` or
    ``torch.no_grad()`` reports a visibly wrong accuracy.
    """
    return _probe(in_features, n_classes, ("train", "grad"))


@factory("optimizer")
def make_optimizer(name: str, model, lr: float, momentum: float = 0.0):
    import torch

    params = as_module(model).parameters()
    if name == "sgd":
        return torch.optim.SGD(params, lr=float(lr), momentum=float(momentum))
    if name == "adam":
        return torch.optim.Adam(params, lr=float(lr))
    raise StudentError("exception", f"unknown optimizer {name!r}")


@factory("loss")
def make_loss(name: str = "cross_entropy"):
    import torch.nn as nn

    losses = {"cross_entropy": nn.CrossEntropyLoss, "mse": nn.MSELoss, "nll": nn.NLLLoss}
    if name not in losses:
        raise StudentError("exception", f"unknown loss {name!r}")
    return losses[name]()


@factory("batches")
def make_batches(X, y, sizes):
    """A list of ``(x, y)`` tensor batches with the given sizes: a stand-in for a DataLoader."""
    import torch

    X, y = torch.as_tensor(X), torch.as_tensor(y)
    out, start = [], 0
    for size in sizes:
        out.append((X[start:start + int(size)], y[start:start + int(size)]))
        start += int(size)
    return out


@factory("switch_probe")
def make_switch_probe(in_features: int, n_classes: int, wrong_when: str):
    """Like ``mode_probe``, but wrong only in training mode (``"train"``) or only with autograd on (``"grad"``).

    Tells apart an ``evaluate`` that forgets ``model.eval()`` from one that forgets ``torch.no_grad()``.
    """
    if wrong_when not in ("train", "grad"):
        raise StudentError("exception", f"switch_probe: wrong_when is 'train' or 'grad', not {wrong_when!r}")
    return _probe(in_features, n_classes, (wrong_when,))


@factory("loader")
def make_loader(X, y, batch_size: int):
    """A torch ``DataLoader`` over ``(X, y)`` in order (no shuffling); the last batch may be smaller."""
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    return DataLoader(TensorDataset(torch.as_tensor(X), torch.as_tensor(y)), batch_size=int(batch_size),
                      shuffle=False)


# Grader objects kept in modules of their own register themselves when imported.
from dlgrade.harness import figures as _figures  # noqa: E402,F401  ("figure_data")
