"""Objects the grader builds inside the student's process from dlgrade's own code.

Hidden tests use them to exercise student functions with known inputs: a model
with known weights for ``train_epoch``, a probe whose output is wrong unless
the model is evaluated in eval mode under ``no_grad``, an optimizer, a loss.
Register new ones with :func:`factory`; tests ask for them by name through
``Submission.make``.
"""
from __future__ import annotations

from typing import Callable

from dlgrade.harness.errors import StudentError

_FACTORIES: dict[str, Callable] = {}


def factory(name: str):
    """Register a trusted constructor under ``name``."""

    def deco(fn):
        _FACTORIES[name] = fn
        return fn

    return deco


def get(name: str) -> Callable:
    if name not in _FACTORIES:
        raise StudentError("exception", f"unknown grader object {name!r}")
    return _FACTORIES[name]


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


@factory("linear_stack")
def make_linear_stack(sizes):
    """``nn.Sequential`` of ``nn.Linear`` layers ``sizes[0] -> ... -> sizes[-1]``, no activations."""
    import torch.nn as nn

    return nn.Sequential(*[nn.Linear(int(a), int(b)) for a, b in zip(sizes[:-1], sizes[1:])])


@factory("forest")
def make_forest(X, y, n_estimators: int = 10, random_state: int = 0):
    """A small scikit-learn random forest fitted on ``(X, y)``: a known model for table questions."""
    from sklearn.ensemble import RandomForestClassifier

    forest = RandomForestClassifier(n_estimators=int(n_estimators), random_state=int(random_state))
    return forest.fit(X, y)


@factory("sleeper")
def make_sleeper(seconds: float):
    """A callable that sleeps ``seconds`` and returns the arguments it got: a known job to time."""
    import time

    class Sleeper:
        def __call__(self, *args, **kwargs):
            time.sleep(float(seconds))
            return {"args": list(args), "kwargs": dict(kwargs)}

    return Sleeper()


@factory("train_probe")
def make_train_probe(sizes):
    """An MLP ``sizes[0] -> sizes[1] -> ... -> sizes[-1]`` with BatchNorm after each hidden Linear.

    BatchNorm makes one training step differ, deterministically, between
    training and eval mode (batch statistics and running averages), so the
    weights after a student's ``train_epoch`` show whether it called
    ``model.train()``.
    """
    import torch.nn as nn

    layers: list = [nn.Flatten()]
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(int(a), int(b)))
        if i < len(sizes) - 2:
            layers += [nn.BatchNorm1d(int(b)), nn.ReLU()]
    return nn.Sequential(*layers)


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
