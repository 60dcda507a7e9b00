"""Writing output files atomically: a temporary file in the same folder, then ``os.replace``.

A crash or a full disk never leaves a half-written gradebook behind.
"""
from __future__ import annotations

from pathlib import Path

from dlgrade.atomic import write_atomic as write_bytes


def write_text(path: str | Path, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically (newlines as given, never translated)."""
    return write_bytes(path, text.encode("utf-8"))
