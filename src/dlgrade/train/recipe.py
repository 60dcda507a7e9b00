"""The training recipe: how a model is trained, as a frozen, validated spec.

A recipe is read from an exercise or thresholds file with
:meth:`Recipe.from_dict`, whose error messages name the file and the field::

    Recipe.from_dict({"optimizer": "adam", "lr": 1e-3, "batch_size": 64, "epochs": 1},
                     where="assignments/mnist/exercise.yaml: recipe")
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from dlgrade.errors import SpecError

OPTIMIZERS = ("adam", "adamw", "sgd")
LOSSES = ("cross_entropy", "mse")


@dataclass(frozen=True)
class Recipe:
    """How to train a model: optimiser, learning rate, batches, epochs and limits."""

    optimizer: str
    """``"adam"``, ``"adamw"`` or ``"sgd"``."""

    lr: float
    """Learning rate, > 0. A very large one (say 10) is allowed: :func:`fit` reports divergence."""

    batch_size: int
    """Examples per step, >= 1 (capped at the training-set size). Ignored when ``full_batch``."""

    epochs: int
    """Passes over the training set, >= 1. A full-batch recipe takes one step per epoch."""

    momentum: float = 0.0
    """SGD momentum in [0, 1); must stay 0 for Adam and AdamW, which have their own."""

    weight_decay: float = 0.0
    """L2 penalty (``sgd``, ``adam``) or decoupled decay (``adamw``), >= 0."""

    loss: str = "cross_entropy"
    """``"cross_entropy"`` on logits with integer class targets, or ``"mse"`` between the
    outputs and one-hot targets. The model has one output per class either way."""

    full_batch: bool = False
    """Use the whole training set as one batch each step (the XOR exercise)."""

    max_seconds: float | None = None
    """Wall-clock budget in seconds for the training loop (per-epoch evaluations included), > 0,
    or None for no limit. Checked between steps: training stops cleanly, the model stays
    usable, and the result says ``stopped="budget"``."""

    clip_grad_norm: float | None = None
    """Clip the global gradient norm to this value (> 0) before each step, or None."""

    max_flops: float | None = None
    """Largest network the grader trains with this recipe, in forward FLOPs per example (> 0), or
    None for no limit. A cost measured from the network, not from a clock: the grader refuses a
    larger network with the same message on any machine, so ``max_seconds`` stays a safety net
    that no network within this limit reaches. :func:`fit` itself does not check it."""

    def __post_init__(self) -> None:
        checked = _validate(self.to_dict(), where="Recipe")
        for name, value in checked.items():  # widen ints given for float fields
            object.__setattr__(self, name, value)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str = "recipe") -> Recipe:
        """Build a recipe from parsed YAML/JSON, raising :class:`SpecError` naming ``where`` and the field.

        ``where`` locates the mapping, e.g. ``"exercises/xor.yaml: recipe"``. Integers are accepted
        for float fields; unknown keys and missing required keys are errors.
        """
        if not isinstance(d, Mapping):
            raise SpecError(f"{where}: expected a mapping of recipe fields, got {type(d).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(str(k) for k in d if k not in known)
        if unknown:
            raise SpecError(f"{where}: unknown recipe field(s) {', '.join(unknown)}; "
                            f"known fields are {', '.join(f.name for f in fields(cls))}")
        missing = [f.name for f in fields(cls) if f.name in _REQUIRED and f.name not in d]
        if missing:
            raise SpecError(f"{where}: missing required recipe field(s) {', '.join(missing)}")
        values = {f.name: d.get(f.name, f.default) for f in fields(cls)}
        values = _validate(values, where=where)
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """The recipe as plain values; ``Recipe.from_dict(r.to_dict()) == r``."""
        return asdict(self)


_REQUIRED = ("optimizer", "lr", "batch_size", "epochs")


def _validate(values: dict[str, Any], *, where: str) -> dict[str, Any]:
    """Check every field of ``values``; return them with ints widened to float where floats are due."""
    out = dict(values)

    def fail(field: str, message: str) -> SpecError:
        return SpecError(f"{where}.{field}: {message} (got {values[field]!r})")

    for field, choices in (("optimizer", OPTIMIZERS), ("loss", LOSSES)):
        if values[field] not in choices:
            raise fail(field, f"must be one of {', '.join(choices)}")

    for field in ("batch_size", "epochs"):
        v = values[field]
        if isinstance(v, bool) or not isinstance(v, int):
            raise fail(field, "must be an integer")
        if v < 1:
            raise fail(field, "must be at least 1")

    if not isinstance(values["full_batch"], bool):
        raise fail("full_batch", "must be true or false")

    for field, optional in (("lr", False), ("momentum", False), ("weight_decay", False),
                            ("max_seconds", True), ("clip_grad_norm", True), ("max_flops", True)):
        v = values[field]
        if v is None and optional:
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            hint = ""
            if isinstance(v, str):
                hint = "; YAML reads 1e-3 and 1e7 as text, write 1.0e-3 and 1.0e+7"
            raise fail(field, f"must be a number{' or null' if optional else ''}{hint}")
        if not math.isfinite(v):
            raise fail(field, "must be finite")
        out[field] = float(v)

    if out["lr"] <= 0:
        raise fail("lr", "must be greater than 0")
    if not 0.0 <= out["momentum"] < 1.0:
        raise fail("momentum", "must be in [0, 1)")
    if out["momentum"] and out["optimizer"] != "sgd":
        raise fail("momentum", f"only applies to sgd; {out['optimizer']} has its own moment estimates")
    if out["weight_decay"] < 0:
        raise fail("weight_decay", "must be at least 0")
    for field in ("max_seconds", "clip_grad_norm", "max_flops"):
        if out[field] is not None and out[field] <= 0:
            raise fail(field, "must be greater than 0, or null for none")
    return out
