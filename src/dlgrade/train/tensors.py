"""Turning what callers pass as data into tensors on the device, once.

The engine accepts an ``(X, y)`` pair (tensors or NumPy arrays) or any object with
``.train`` and ``.test`` attributes that are such pairs (``dlgrade.data.Dataset``),
so it never needs to import the data stage.
"""
from __future__ import annotations

from typing import Any

import torch

from dlgrade.errors import DlgradeError


def split_of(data: Any, split: str) -> tuple[Any, Any]:
    """Return ``(X, y)``: ``data`` itself when it is a pair, else ``getattr(data, split)``."""
    if isinstance(data, (tuple, list)):
        pair = data
    elif hasattr(data, split):
        pair = getattr(data, split)
    else:
        raise DlgradeError(f"expected an (X, y) pair or a dataset with a .{split} attribute, "
                           f"got {type(data).__name__}")
    if not isinstance(pair, (tuple, list)) or len(pair) != 2:
        raise DlgradeError(f"expected the {split} data as an (X, y) pair, got {type(pair).__name__}")
    return pair[0], pair[1]


def inputs_on(X: Any, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """``X`` as a contiguous ``dtype`` tensor on ``device``.

    Integer inputs (uint8 images) travel to the device as they are, then become ``dtype``
    there, without scaling: normalising is the data stage's job.
    """
    X = torch.as_tensor(X)
    if X.ndim == 0:
        raise DlgradeError("inputs X must have a batch dimension, got a scalar")
    return X.to(device=device).to(dtype=dtype).contiguous()


def labels_on(y: Any, device: torch.device, n: int) -> torch.Tensor:
    """``y`` as a 1-D int64 tensor of ``n`` class indices on ``device``."""
    y = torch.as_tensor(y)
    if y.is_floating_point() and not torch.equal(y, y.round()):
        raise DlgradeError("labels y must be class indices, got non-integer values")
    y = y.reshape(-1) if y.ndim == 2 and y.shape[1] == 1 else y
    if y.ndim != 1 or y.shape[0] != n:
        raise DlgradeError(f"labels y must have shape ({n},) to match X, got {tuple(y.shape)}")
    return y.to(device=device, dtype=torch.int64).contiguous()


def pair_on(data: Any, split: str, device: torch.device, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``split`` of ``data`` as ``(X, y)`` tensors on ``device``; refuses an empty split."""
    X, y = split_of(data, split)
    X = inputs_on(X, device, dtype)
    if X.shape[0] == 0:
        raise DlgradeError(f"the {split} data is empty")
    return X, labels_on(y, device, X.shape[0])


def param_dtype(model: torch.nn.Module) -> torch.dtype:
    """The floating dtype of ``model``'s parameters (float32 when it has none)."""
    for p in model.parameters():
        if p.is_floating_point():
            return p.dtype
    return torch.float32
