"""Reading a large notebook without its outputs, before it is parsed.

The grader never uses a submission's saved outputs, yet a notebook can carry
hundreds of megabytes of them (a printed array, a base64 image). Parsing such a
file with ``json`` holds it several times over. :func:`notebook_bytes` returns
the file as it is when it is small; a larger file is scanned through ``mmap``
(the file's pages, not the grader's heap) and every ``"outputs": [...]`` value
is replaced by ``[]`` before anything is parsed. Strings are skipped whole by
the regular-expression engine, so one huge output costs one scan, no copy.
"""
from __future__ import annotations

import mmap
import os
import re
from pathlib import Path

STRIP_ABOVE = 8 << 20
"""Files larger than this (bytes) are read without their outputs."""

_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')
_ARRAY_VALUE = re.compile(rb"\s*:\s*\[")
_KEY = b'"outputs"'


def notebook_bytes(path: Path, *, strip_above: int = STRIP_ABOVE) -> bytes:
    """The bytes of the notebook at ``path``; above ``strip_above`` bytes, with outputs emptied."""
    with open(path, "rb") as fh:
        if os.fstat(fh.fileno()).st_size <= strip_above:
            return fh.read()
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            return strip_outputs(buf)


def strip_outputs(buf) -> bytes:
    """``buf`` (JSON text, bytes or mmap) with every ``"outputs": [...]`` value replaced by ``[]``.

    Malformed JSON is passed through as it is from the point where it stops making sense
    (the parser reports it afterwards)."""
    pieces, kept, pos = [], 0, 0
    while True:
        m = _TOKEN.search(buf, pos)
        if m is None:
            break
        pos = m.end()
        if pos - m.start() != len(_KEY) or buf[m.start():pos] != _KEY:
            continue
        value = _ARRAY_VALUE.match(buf, pos)
        if value is None:
            continue
        open_at = value.end() - 1
        end = _array_end(buf, value.end())
        if end is None:
            break
        pieces.append(buf[kept:open_at])
        pieces.append(b"[]")
        kept = pos = end
    pieces.append(buf[kept:])
    return b"".join(pieces)


def _array_end(buf, pos: int) -> int | None:
    """Offset just past the ``]`` closing the array whose ``[`` is right before ``pos``."""
    depth = 1
    while depth:
        m = _TOKEN.search(buf, pos)
        if m is None:
            return None
        pos = m.end()
        char = buf[m.start():m.start() + 1]
        if char in (b"[", b"{"):
            depth += 1
        elif char in (b"]", b"}"):
            depth -= 1
    return pos
