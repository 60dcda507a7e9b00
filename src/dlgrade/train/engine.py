"""The training loop: :func:`fit` a built model to data with a :class:`Recipe`.

Data goes to the device once, as tensors; each epoch draws a ``torch.randperm`` from a
generator seeded with ``seed`` and takes minibatches by slicing it (no DataLoader). On
CUDA the forward pass runs under bf16 autocast; on the CPU everything is float32 and a
run is deterministic: the same seed and the same initial weights give bitwise the same
trained weights. Build the model under :func:`dlgrade.train.seeded` to fix those.
"""
from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from dlgrade.device import pick_device
from dlgrade.errors import DlgradeError
from dlgrade.train.evaluation import evaluate, predicted_classes
from dlgrade.train.recipe import Recipe
from dlgrade.train.seeding import GLOBAL_RNG, seed_torch
from dlgrade.train.tensors import pair_on, param_dtype

STOP_REASONS = ("completed", "budget", "diverged")

# Steps between divergence checks: each check reads the running loss back (a device sync).
_CHECK_EVERY = 16
# Training has diverged when the mean loss over a check window is NaN/inf or exceeds
# _BLOWUP x max(loss of the first step, _BLOWUP_FLOOR): a learning rate of 10 or 1000 sends
# the loss far past that, then often back down to a finite plateau of dead units.
_BLOWUP = 10.0
_BLOWUP_FLOOR = 1.0

Progress = Callable[[int, int, dict[str, Any]], None]


@dataclass(frozen=True)
class EpochMetrics:
    """What one epoch (or the part of it that ran before a stop) measured."""

    epoch: int
    """1-based epoch number."""

    train_loss: float
    """Mean loss over the training examples of this epoch, as seen by each step (train mode)."""

    train_acc: float
    """Accuracy on those same batches, read from the outputs that produced the loss."""

    seconds: float
    """Wall-clock time of this epoch's training steps (evaluation excluded)."""

    steps: int
    """Optimiser steps taken in this epoch; fewer than a full epoch when training stopped in it."""

    eval_acc: float | None = None
    """Accuracy on ``eval_data`` after the epoch, under eval mode; None without ``eval_data``."""


@dataclass(frozen=True)
class FitResult:
    """The outcome of :func:`fit`."""

    history: tuple[EpochMetrics, ...]
    """One entry per epoch that took at least one step, in order."""

    seconds: float
    """Wall-clock time of the whole call: moving data, training and evaluations."""

    stopped: str
    """Why training ended: ``"completed"`` (all epochs ran), ``"budget"`` (``recipe.max_seconds``
    ran out) or ``"diverged"`` (the loss became NaN/inf or blew up: see :func:`fit`)."""

    steps: int
    """Optimiser steps taken."""

    total_steps: int
    """Steps the recipe asked for (``epochs`` x steps per epoch)."""

    device: str
    """The device trained on, e.g. ``"cpu"`` or ``"cuda:0"``."""

    @property
    def final(self) -> EpochMetrics | None:
        """Metrics of the last epoch that ran, or None when none did."""
        return self.history[-1] if self.history else None

    def to_dict(self) -> dict[str, Any]:
        """Plain values, ready for JSON."""
        return asdict(self) | {"history": [asdict(m) for m in self.history]}


def make_optimizer(params: Iterable[nn.Parameter], recipe: Recipe) -> torch.optim.Optimizer:
    """The optimiser ``recipe`` names, over ``params``.

    Adam and AdamW use PyTorch's fused kernel where this torch supports it for the parameters'
    device (one pass over the weights instead of several: for the MNIST lesson MLP on a 2-core
    CPU, a quarter of the time per step; see benchmarks/RESULTS.md), and the default
    implementation otherwise.
    """
    params = list(params)
    if recipe.optimizer == "sgd":
        return torch.optim.SGD(params, lr=recipe.lr, momentum=recipe.momentum,
                               weight_decay=recipe.weight_decay)
    cls = torch.optim.Adam if recipe.optimizer == "adam" else torch.optim.AdamW
    try:
        return cls(params, lr=recipe.lr, weight_decay=recipe.weight_decay, fused=True)
    except (RuntimeError, TypeError, ValueError):  # no fused kernel for this device or torch
        return cls(params, lr=recipe.lr, weight_decay=recipe.weight_decay)


def compute_loss(kind: str, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean loss of ``outputs`` (N, C) against class indices ``targets`` (N,), in float32."""
    outputs = outputs.float()
    if kind == "cross_entropy":
        return F.cross_entropy(outputs, targets)
    return F.mse_loss(outputs, F.one_hot(targets, outputs.shape[1]).float())


def _check_labels(y: torch.Tensor, n_classes: int, name: str) -> None:
    lo, hi = int(y.min()), int(y.max())
    if lo < 0 or hi >= n_classes:
        raise DlgradeError(f"{name} labels run from {lo} to {hi}, but the model outputs "
                           f"{n_classes} classes (labels must be in 0..{n_classes - 1})")


class _DivergenceWatch:
    """Accumulates step losses on the device and says, when asked, whether training diverged."""

    def __init__(self, device: torch.device):
        self.window = torch.zeros((), device=device)
        self.count = 0
        self.limit: float | None = None

    def add(self, loss: torch.Tensor) -> None:
        if self.limit is None:  # one sync, on the first step: the untrained model's loss
            first = loss.item()
            self.limit = _BLOWUP * max(first, _BLOWUP_FLOOR) if math.isfinite(first) else -math.inf
        self.window += loss
        self.count += 1

    def diverged(self) -> bool:
        """Whether the losses added since the last call are NaN/inf or blown up; resets the window."""
        if self.count == 0:
            return False
        mean = self.window.item() / self.count
        self.window.zero_()
        self.count = 0
        return not math.isfinite(mean) or mean > self.limit


def _rng_devices(device: torch.device) -> list[int]:
    if device.type != "cuda":
        return []
    return [device.index if device.index is not None else torch.cuda.current_device()]


def _step(model: nn.Module, optimizer: torch.optim.Optimizer, params: list[nn.Parameter], recipe: Recipe,
          xb: torch.Tensor, yb: torch.Tensor, device: torch.device,
          check_classes: Callable[[int], None] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """One optimiser step on a batch; returns the (detached) loss and the predicted classes.

    ``check_classes(n_classes)``, when given, runs between the forward pass and the loss.
    """
    with torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else nullcontext():
        out = model(xb)
    pred = predicted_classes(out.detach())
    if check_classes is not None:
        check_classes(out.shape[1])
    loss = compute_loss(recipe.loss, out, yb)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if recipe.clip_grad_norm is not None:
        nn.utils.clip_grad_norm_(params, recipe.clip_grad_norm)
    optimizer.step()
    return loss.detach(), pred


_RANDOM_LAYERS = (nn.modules.dropout._DropoutNd, nn.RReLU)
"""torch layers that draw from the global generator while training."""


@contextlib.contextmanager
def _training_randomness(model: nn.Module, seed: int, dev):
    """The global torch generator seeded with ``seed`` (and restored after) when ``model`` draws from it:
    a dropout layer, or a layer that is not one of torch's own (a rebuilt network's graph module is).
    Then other threads wait (``seeding.GLOBAL_RNG``), so that what one grading thread draws never
    depends on another. A model made of torch's deterministic layers only draws nothing and trains
    without the lock."""
    if not any(isinstance(m, _RANDOM_LAYERS) or not type(m).__module__.startswith("torch.")
               for m in model.modules()):
        yield
        return
    with GLOBAL_RNG, torch.random.fork_rng(devices=_rng_devices(dev)):
        seed_torch(seed)
        yield


def fit(model: nn.Module, data: Any, recipe: Recipe | Mapping[str, Any], *, seed: int = 0,
        device: str | torch.device = "auto", progress: Progress | None = None,
        eval_data: Any = None) -> FitResult:
    """Train ``model`` in place on ``data`` following ``recipe``; return what happened.

    ``data`` is an ``(X, y)`` pair (tensors or arrays; y holds class indices) or a dataset whose
    ``.train`` is one; ``eval_data`` likewise, with ``.test``, is evaluated after each epoch.
    The model is moved to ``device`` and switched to train mode for the steps; its previous
    mode (train or eval) is restored on return, even when training stops early or raises.

    ``seed`` fixes the minibatch order and the in-training randomness (dropout); the global
    torch generator is seeded inside and restored on return. It does not touch the initial
    weights: build the model under :func:`dlgrade.train.seeded`.

    ``progress(step, total_steps, metrics)`` is called after every step; ``metrics`` holds the
    current ``"epoch"`` and the figures of the last finished epoch (``"train_loss"``,
    ``"train_acc"``, ``"eval_acc"``...), so calling it costs no device sync.

    Training stops early when ``recipe.max_seconds`` runs out (checked between steps, so at
    least one step runs; the model is left usable) or when it diverges: the mean loss over a
    few steps is NaN/inf or more than 10x the first step's loss (10x at least 1.0), checked
    every 16 steps and at each epoch end. See :attr:`FitResult.stopped`.
    """
    start_time = time.perf_counter()
    if isinstance(recipe, Mapping):
        recipe = Recipe.from_dict(recipe, where="fit(recipe=...)")
    if not isinstance(recipe, Recipe):
        raise DlgradeError(f"recipe must be a Recipe or a mapping, got {type(recipe).__name__}")
    dev = pick_device(device)
    model.to(dev)
    dtype = param_dtype(model)
    X, y = pair_on(data, "train", dev, dtype)
    eval_pair = pair_on(eval_data, "test", dev, dtype) if eval_data is not None else None
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise DlgradeError("the model has no trainable parameters")

    n = X.shape[0]
    batch = n if recipe.full_batch else min(recipe.batch_size, n)
    total_steps = -(-n // batch) * recipe.epochs
    optimizer = make_optimizer(params, recipe)
    order = torch.Generator().manual_seed(seed)
    budget = recipe.max_seconds

    def check_labels(n_classes: int) -> None:  # once, when the model's class count is known
        _check_labels(y, n_classes, "training")
        if eval_pair is not None:
            _check_labels(eval_pair[1], n_classes, "evaluation")

    watch = _DivergenceWatch(dev)
    history: list[EpochMetrics] = []
    last: dict[str, Any] = {}
    step = 0
    stopped = "completed"
    was_training = model.training
    with _training_randomness(model, seed, dev):
        loop_start = time.perf_counter()
        try:
            model.train()
            for epoch in range(1, recipe.epochs + 1):
                epoch_start = time.perf_counter()
                loss_sum = torch.zeros((), device=dev)
                correct = torch.zeros((), dtype=torch.int64, device=dev)
                perm = None if batch >= n else torch.randperm(n, generator=order).to(dev)
                epoch_steps = 0
                for lo in range(0, n, batch):
                    if budget is not None and step > 0 and time.perf_counter() - loop_start >= budget:
                        stopped = "budget"
                        break
                    if perm is None:
                        xb, yb = X, y
                    else:
                        idx = perm[lo:lo + batch]
                        xb, yb = X[idx], y[idx]
                    loss, pred = _step(model, optimizer, params, recipe, xb, yb, dev,
                                       check_labels if step == 0 else None)
                    loss_sum += loss * yb.shape[0]
                    correct += (pred == yb).sum()
                    watch.add(loss)
                    step += 1
                    epoch_steps += 1
                    if step % _CHECK_EVERY == 0 and watch.diverged():
                        stopped = "diverged"
                        break
                    if progress is not None:
                        progress(step, total_steps, {"epoch": epoch, **last})
                if epoch_steps == 0:
                    break
                seen = min(n, epoch_steps * batch)
                train_loss = (loss_sum / seen).item()
                seconds = time.perf_counter() - epoch_start
                if stopped == "completed" and (watch.diverged() or not math.isfinite(train_loss)):
                    stopped = "diverged"
                eval_acc = evaluate(model, eval_pair, device=dev) if eval_pair is not None else None
                metrics = EpochMetrics(epoch=epoch, train_loss=train_loss, train_acc=correct.item() / seen,
                                       seconds=seconds, steps=epoch_steps, eval_acc=eval_acc)
                history.append(metrics)
                last = {"train_loss": train_loss, "train_acc": metrics.train_acc}
                if eval_acc is not None:
                    last["eval_acc"] = eval_acc
                if stopped != "completed":
                    break
        finally:
            model.train(was_training)
    return FitResult(history=tuple(history), seconds=time.perf_counter() - start_time, stopped=stopped,
                     steps=step, total_steps=total_steps, device=str(dev))
