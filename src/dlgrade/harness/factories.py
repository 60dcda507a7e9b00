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


@factory("mode_probe")
def make_mode_probe(in_features: int, n_classes: int):
    """A classifier whose predictions are right only in eval mode under ``no_grad``.

    In training mode, or with autograd enabled, it predicts the class that is
    least likely, so an ``evaluate`` that forgets ``model.eval()`` or
    ``torch.no_grad()`` reports a visibly wrong accuracy.
    """
    import torch
    import torch.nn as nn

    class ModeProbe(nn.Module):
        def __init__(self):
            super().__init__()
            self.flatten = nn.Flatten()
            self.fc = nn.Linear(int(in_features), int(n_classes))

        def forward(self, x):
            logits = self.fc(self.flatten(x))
            if self.training or torch.is_grad_enabled():
                return -logits
            return logits

    return ModeProbe()


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
