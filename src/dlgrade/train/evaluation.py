"""Measuring a model: accuracy, logits and parameter counts.

Every forward pass here runs under ``model.eval()`` and ``torch.no_grad()``, and the
model's previous training mode is restored afterwards, whatever happens.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from dlgrade.device import pick_device
from dlgrade.errors import DlgradeError
from dlgrade.train.tensors import inputs_on, pair_on, param_dtype


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Put ``model`` in eval mode with gradients off; restore its previous mode on exit."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield model
    finally:
        model.train(was_training)


def predicted_classes(outputs: torch.Tensor) -> torch.Tensor:
    """Class indices from a ``(N, C)`` batch of outputs, one column per class (C >= 2)."""
    if outputs.ndim != 2 or outputs.shape[1] < 2:
        raise DlgradeError(f"the model must output one score per class, shape (N, C) with C >= 2; "
                           f"got shape {tuple(outputs.shape)}")
    return outputs.argmax(dim=1)


CPU_BATCH_VALUES = 1 << 18
"""Most input values in one batch of a forward pass on the CPU. A batch of 1,024 CIFAR images
(3 million values) makes a CNN's first feature maps outgrow the caches: 85 at a time are about
1.5 times faster on one thread, and three times faster channels-last (``benchmarks/bench_scoring.py``)."""


def _logits_in_batches(model: nn.Module, X: torch.Tensor, batch_size: int,
                       channels_last: bool = False) -> Iterator[torch.Tensor]:
    """``model`` on ``X``, a batch at a time; on the CPU a batch holds at most :data:`CPU_BATCH_VALUES`
    input values. ``channels_last``: a batch of images (N, C, H, W) goes in channels-last, which torch's
    CPU convolutions run fastest (the logits are the same up to float rounding), but on which a forward
    that calls ``x.view(...)`` after a convolution fails: only for networks known not to."""
    if batch_size < 1:
        raise DlgradeError(f"batch_size must be at least 1, got {batch_size}")
    images = channels_last and X.ndim == 4
    if X.device.type == "cpu" and X.shape[0]:
        batch_size = max(1, min(batch_size, CPU_BATCH_VALUES // max(1, X[0].numel())))
    for start in range(0, X.shape[0], batch_size):
        batch = X[start:start + batch_size]
        yield model(batch.contiguous(memory_format=torch.channels_last) if images else batch)


def evaluate(model: nn.Module, data: Any, *, device: str | torch.device = "auto",
             batch_size: int = 1024) -> float:
    """Accuracy of ``model`` on ``data``, a fraction in [0, 1].

    ``data`` is an ``(X, y)`` pair or a dataset whose ``.test`` is one. The model is moved
    to ``device`` (as :func:`fit` does) and run under eval mode and ``no_grad``; its previous
    training mode is restored.
    """
    dev = pick_device(device)
    model.to(dev)
    X, y = pair_on(data, "test", dev, param_dtype(model))
    correct = torch.zeros((), dtype=torch.int64, device=dev)
    with eval_mode(model):
        start = 0
        for out in _logits_in_batches(model, X, batch_size):
            stop = start + out.shape[0]
            correct += (predicted_classes(out) == y[start:stop]).sum()
            start = stop
    return correct.item() / y.shape[0]


def predict(model: nn.Module, X: Any, *, device: str | torch.device = "auto",
            batch_size: int = 1024, channels_last: bool = False) -> torch.Tensor:
    """The model's outputs (logits) for inputs ``X``, as a float tensor on the CPU.

    Same discipline as :func:`evaluate`: eval mode, no autograd graph, previous mode restored.
    ``channels_last``: feed images channels-last (faster on the CPU; only for a model whose forward
    never calls ``view`` on a feature map, such as a grader-rebuilt network without a ``view`` node).
    """
    dev = pick_device(device)
    model.to(dev)
    X = inputs_on(X, dev, param_dtype(model))
    with eval_mode(model):
        outs = [out.float().cpu() for out in _logits_in_batches(model, X, batch_size, channels_last)]
    if not outs:
        raise DlgradeError("predict got no inputs (X is empty)")
    return torch.cat(outs)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters (shared parameters counted once)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
