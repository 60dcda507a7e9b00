"""Newline-delimited JSON: the one wire format of the sandbox.

Four ends speak it: the grader (:mod:`dlgrade.sandbox.control`) and the
worker's zygote (:mod:`dlgrade.sandbox.zygote`) on a control socket, the
grader's end of a submission (:mod:`dlgrade.sandbox.channel`) and the
submission's process (:mod:`dlgrade.sandbox.child`) on two pipes. Each message
is one JSON object on one line; the longest line each end accepts is in
:mod:`dlgrade.sandbox.limits`. Only the standard library is used: the sandboxed
side imports this module too.
"""
from __future__ import annotations

import json


class BadLine(ValueError):
    """A line that is too long, not JSON, or not a JSON object."""


def encode(message: dict, *, allow_nan: bool = True) -> bytes:
    """``message`` as one line."""
    return json.dumps(message, allow_nan=allow_nan).encode() + b"\n"


def decode(line: bytes) -> dict:
    """The JSON object on ``line``; :class:`BadLine` otherwise."""
    try:
        message = json.loads(line)
    except ValueError:
        raise BadLine("a reply that is not JSON") from None
    except RecursionError:
        raise BadLine("a reply nested too deeply") from None
    if not isinstance(message, dict):
        raise BadLine("a reply that is not a JSON object")
    return message


class Lines:
    """Bytes in (:meth:`feed`), complete lines out (:meth:`pop`), none longer than ``limit`` bytes."""

    def __init__(self, limit: int):
        self.limit = limit
        self.buf = bytearray()

    def feed(self, data: bytes) -> None:
        self.buf += data

    def pop(self) -> bytes | None:
        """The next complete line (without its newline), or None; :class:`BadLine` when the line
        being received is already longer than the limit."""
        end = self.buf.find(b"\n")
        if end < 0:
            if len(self.buf) > self.limit:
                raise BadLine(f"a reply longer than {self.limit >> 20} MiB")
            return None
        if end > self.limit:
            raise BadLine(f"a reply longer than {self.limit >> 20} MiB")
        line = bytes(self.buf[:end])
        del self.buf[:end + 1]
        return line
