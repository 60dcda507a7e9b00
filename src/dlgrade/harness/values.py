"""Values that cross between the grader and the student's process.

Only plain data crosses: JSON scalars, lists, tuples, dicts, and numeric
arrays, which travel inside the message when small (their raw bytes, with dtype
and shape checked) and as ``.npy`` files read with ``allow_pickle=False`` otherwise.
Anything else the student returns (a model, an optimizer) stays in the
student's process and the grader gets a :class:`Ref` to it, which it can pass
back as an argument. Both sides use the same :func:`encode`/:func:`decode`, so a
test behaves the same in ``check`` (in-process) and in ``grade`` (sandboxed).
"""
from __future__ import annotations

import base64
import itertools
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dlgrade.harness.errors import BadOutput

MAX_DEPTH = 32
MAX_ITEMS = 1_000_000
MAX_STR = 1_000_000
MAX_ARRAY_BYTES = 1 << 30
INLINE_BYTES = 16 << 10
"""Arrays up to this size travel inside the message (base64 of their bytes), larger ones as files:
most arrays a test sends are a few rows, for which a file costs more than the bytes."""
_KINDS = "biuf"  # bool, int, unsigned, float


@dataclass(frozen=True)
class Ref:
    """A handle to an object that lives in the student's process."""

    id: int
    """Key in the student process's object table."""
    type: str
    """Qualified type name, e.g. ``torch.nn.modules.container.Sequential``."""
    repr: str = ""
    """A short repr for messages (at most 200 characters)."""


class MemoryStore:
    """Array store for in-process use: arrays are copied, never shared."""

    def __init__(self):
        self._arrays: dict[str, np.ndarray] = {}
        self._n = itertools.count()

    def put(self, array: np.ndarray) -> str:
        name = f"a{next(self._n)}.npy"
        self._arrays[name] = np.array(array, copy=True)
        return name

    def get(self, name: str) -> np.ndarray:
        return np.array(self._arrays.pop(name), copy=True)


class DirStore:
    """Array store in a directory both processes can see (the sandbox work dir).

    Each side writes names with its own letter (``g`` grader, ``s`` student) and
    reads only the other side's, so neither can overwrite what the other sent.
    """

    def __init__(self, directory: Path, side: str):
        if side not in ("g", "s"):
            raise ValueError("side is 'g' (grader) or 's' (student)")
        self.directory = Path(directory)
        self._side = side
        self._other = "s" if side == "g" else "g"
        self._n = itertools.count()

    def put(self, array: np.ndarray) -> str:
        name = f"{self._side}{next(self._n)}.npy"
        np.save(self.directory / name, np.asarray(array, order="C"), allow_pickle=False)
        return name

    def get(self, name: str) -> np.ndarray:
        if not isinstance(name, str) or not re.fullmatch(self._other + r"\d{1,12}\.npy", name):
            raise BadOutput(f"invalid array reference {str(name)[:60]!r}")
        path = self.directory / name
        if path.is_symlink() or not path.is_file():
            raise BadOutput(f"array file {name} is missing")
        if path.stat().st_size > MAX_ARRAY_BYTES:
            raise BadOutput(f"array {name} is larger than {MAX_ARRAY_BYTES >> 20} MiB")
        try:
            with open(path, "rb") as fh:
                array = np.load(fh, allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise BadOutput(f"array {name} could not be read: {exc}") from None
        finally:
            path.unlink(missing_ok=True)
        return array


def _torch():
    import torch

    return torch


def encode(value, store, register=None, _depth=0):
    """Turn ``value`` into JSON-able data; arrays go to ``store``.

    ``register(obj) -> Ref`` is called for objects that are not plain data; when
    it is None such objects are an error (the grader never sends them).
    """
    if _depth > MAX_DEPTH:
        raise BadOutput("value is nested too deeply")
    if value is None or isinstance(value, (bool, str)):
        if isinstance(value, str) and len(value) > MAX_STR:
            raise BadOutput(f"string of {len(value)} characters is too long")
        return value
    if isinstance(value, int) and type(value) is not bool:
        if abs(value) >= 2**63:
            return {"__bigint__": str(value)}
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else {"__float__": repr(float(value))}
    if isinstance(value, Ref):
        return {"__ref__": value.id, "type": value.type}
    if isinstance(value, np.generic):
        if value.dtype.kind in _KINDS:
            return encode(value.item(), store, register, _depth + 1)
        raise BadOutput(f"numpy scalar of dtype {value.dtype} is not supported")
    if isinstance(value, np.ndarray):
        return _array_out(_plain_array(value), store, torch=False)
    torch = _torch()
    if isinstance(value, torch.Tensor):
        t = value.detach().cpu()
        if t.dtype in (torch.bfloat16, torch.float16):
            t = t.float()
        return _array_out(_plain_array(t.numpy()), store, torch=True)
    if isinstance(value, (list, tuple)):
        if len(value) > MAX_ITEMS:
            raise BadOutput(f"sequence of {len(value)} items is too long")
        items = [encode(v, store, register, _depth + 1) for v in value]
        return {"__tuple__": items} if isinstance(value, tuple) else items
    if isinstance(value, dict):
        if len(value) > MAX_ITEMS:
            raise BadOutput(f"dict of {len(value)} items is too long")
        pairs = []
        for k, v in value.items():
            if not (k is None or isinstance(k, (str, int, float, bool))):
                if register is None:
                    raise BadOutput(f"dict key of type {type(k).__name__} is not supported")
                k = str(k)
            pairs.append([encode(k, store, None, _depth + 1), encode(v, store, register, _depth + 1)])
        return {"__dict__": pairs}
    if register is None:
        raise BadOutput(f"values of type {type(value).__name__} cannot be sent")
    ref = register(value)
    return {"__ref__": ref.id, "type": ref.type, "repr": ref.repr}


def _plain_array(array: np.ndarray) -> np.ndarray:
    if array.dtype.kind not in _KINDS:
        raise BadOutput(f"array of dtype {array.dtype} is not supported (numbers only)")
    if array.nbytes > MAX_ARRAY_BYTES:
        raise BadOutput(f"array of {array.nbytes >> 20} MiB is too large")
    return np.asarray(array, order="C")  # (ascontiguousarray would turn a 0-d array into shape (1,))


def _array_out(array: np.ndarray, store, *, torch: bool) -> dict:
    if array.nbytes <= INLINE_BYTES:
        return {"__inline__": [array.dtype.str, list(array.shape), base64.b64encode(array.tobytes()).decode()],
                "torch": torch}
    return {"__ndarray__": store.put(array), "torch": torch}


def _array_in(spec) -> np.ndarray:
    """The array of an ``__inline__`` entry: a plain numeric dtype, a shape that matches the bytes."""
    if not (isinstance(spec, list) and len(spec) == 3 and isinstance(spec[0], str) and isinstance(spec[1], list)
            and isinstance(spec[2], str) and len(spec[2]) <= 4 * INLINE_BYTES // 3 + 4):
        raise BadOutput("malformed inline array")
    try:
        dtype = np.dtype(spec[0])
        raw = base64.b64decode(spec[2], validate=True)
    except (TypeError, ValueError):
        raise BadOutput("malformed inline array") from None
    shape = spec[1]
    if dtype.kind not in _KINDS or dtype.names is not None or dtype.subdtype is not None or len(shape) > 32 \
            or not all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= INLINE_BYTES for n in shape) \
            or math.prod(shape) * dtype.itemsize != len(raw):
        raise BadOutput("malformed inline array")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


def decode(data, store, resolve=None, _depth=0):
    """Inverse of :func:`encode`. ``resolve(id) -> object`` turns refs into objects
    (student side); without it refs stay :class:`Ref` (grader side)."""
    if _depth > MAX_DEPTH:
        raise BadOutput("value is nested too deeply")
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        return [decode(v, store, resolve, _depth + 1) for v in data]
    if not isinstance(data, dict):
        raise BadOutput(f"unexpected value of type {type(data).__name__}")
    if "__inline__" in data:
        array = _array_in(data["__inline__"])
        return _torch().from_numpy(array) if data.get("torch") else array
    if "__ndarray__" in data:
        array = store.get(data["__ndarray__"])
        if array.dtype.kind not in _KINDS:
            raise BadOutput(f"array of dtype {array.dtype} is not supported")
        return _torch().from_numpy(array) if data.get("torch") else array
    if "__tuple__" in data:
        return tuple(decode(v, store, resolve, _depth + 1) for v in _as_list(data["__tuple__"]))
    if "__dict__" in data:
        out = {}
        for pair in _as_list(data["__dict__"]):
            if not (isinstance(pair, list) and len(pair) == 2):
                raise BadOutput("malformed dict entry")
            out[decode(pair[0], store, None, _depth + 1)] = decode(pair[1], store, resolve, _depth + 1)
        return out
    if "__float__" in data:
        text = str(data["__float__"])
        if text not in ("nan", "inf", "-inf"):
            raise BadOutput(f"invalid float {text[:20]!r}")
        return float(text)
    if "__bigint__" in data:
        text = str(data["__bigint__"])
        if len(text) > 4000 or not re.fullmatch(r"-?\d+", text):
            raise BadOutput("invalid integer")
        return int(text)
    if "__ref__" in data:
        ref_id = data["__ref__"]
        if not isinstance(ref_id, int):
            raise BadOutput("invalid object reference")
        if resolve is not None:
            return resolve(ref_id)
        return Ref(ref_id, str(data.get("type", "object"))[:200], str(data.get("repr", ""))[:200])
    raise BadOutput("unexpected mapping in a value")


def _as_list(value) -> list:
    if not isinstance(value, list):
        raise BadOutput("malformed value")
    return value
