"""Fingerprints of code, one top-level statement at a time (dlgrade.similarity.find_pairs)."""
from __future__ import annotations


def test_a_statements_tokens_are_found_by_bisection_as_by_a_scan():
    """Are the tokens of a range of lines (one top-level statement) the same found by bisection as by scanning
    the whole cell, so that a cell of 24,000 statements is not scanned 24,000 times?"""
    from dlgrade.similarity.find_pairs import Lines
    from dlgrade.similarity.normalise_code import normalise

    source = "\n".join(f"v{i} = {i} + w{i}" if i % 3 else f"def f{i}(x):\n    return x * {i}" for i in range(300))
    tokens = normalise(source, keep=frozenset())
    lines = Lines(tokens)
    for first, last in ((1, 1), (5, 9), (100, 100), (0, 10_000), (399, 401), (50, 40)):
        assert lines.between(first, last) == [t for t in tokens if first <= t.line <= last], (first, last)
