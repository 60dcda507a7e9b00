"""The sandbox's one wire format: newline-delimited JSON objects, size-capped."""
from __future__ import annotations

import pytest

from dlgrade.sandbox import GradingWorker, framing


def test_lines_split_cap_and_decode():
    """Are lines split wherever the bytes arrive, refused past the limit, and only JSON objects decoded?"""
    lines = framing.Lines(limit=32)
    lines.feed(framing.encode({"seq": 1})[:5])
    assert lines.pop() is None
    lines.feed(framing.encode({"seq": 1})[5:] + b'{"seq": 2}\n[1]\nnot json\n')
    assert [framing.decode(lines.pop()) for _ in range(2)] == [{"seq": 1}, {"seq": 2}]
    for why in ("not a JSON object", "not JSON"):
        with pytest.raises(framing.BadLine, match=why):
            framing.decode(lines.pop())
    assert lines.pop() is None
    lines.feed(b"x" * 40)
    with pytest.raises(framing.BadLine, match="longer than"):
        lines.pop()
    with pytest.raises(ValueError):
        framing.encode({"x": float("nan")}, allow_nan=False)


def test_a_line_nested_too_deeply_is_a_bad_line_not_a_crash():
    """A student's process can write a reply nested 200,000 deep: is it the submission's bad line (as any
    malformed reply is), not a RecursionError that the grader would take for its own failure?"""
    with pytest.raises(framing.BadLine, match="nested too deeply"):
        framing.decode(b'{"seq": 0, "progress": ' + b"[" * 200_000 + b"]" * 200_000 + b"}")


def test_the_stand_in_and_the_worker_share_one_interface():
    """Do the tests' stand-in and the sandboxed Worker both implement the GradingWorker protocol?"""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "test_grade"))
    from fake_worker import FakeWorker

    from dlgrade.sandbox import Worker

    assert isinstance(FakeWorker(), GradingWorker)
    assert all(callable(getattr(Worker, name)) for name in ("open", "close"))
