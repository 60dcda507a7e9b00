"""Choosing the torch device: a parameter everywhere, decided at call time."""
from __future__ import annotations

import torch

from dlgrade.errors import DlgradeError


def pick_device(device: str | torch.device | None = "auto") -> torch.device:
    """Return ``device`` as a :class:`torch.device`; ``"auto"``/None picks cuda, then mps, then cpu."""
    if device is None or device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise DlgradeError(f"unknown device {device!r}: use auto, cpu, cuda, cuda:N or mps") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise DlgradeError(f"device {device!r} requested but CUDA is not available on this machine",
                           hint="use --device cpu or --device auto")
    return dev
