"""Shared by the similarity tests: the labelled set's helpers, and its precision/recall printed at the end."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # similarity_cases, for the tests and the benchmark

_MEASURED: dict[str, dict[str, tuple[int, int, int, int]]] = {}
"""Exercise -> kind (code, text) -> (true positives, false positives, false negatives, not measurable)."""


@pytest.fixture(scope="session")
def measured() -> dict:
    """Where test_labelled_set records its counts for the end-of-run summary."""
    return _MEASURED


def pytest_terminal_summary(terminalreporter):
    if not _MEASURED:
        return
    terminalreporter.section("similarity: precision and recall on the labelled set")
    for ex, kinds in sorted(_MEASURED.items()):
        parts = []
        for kind, (tp, fp, fn, unmeasurable) in sorted(kinds.items()):
            precision = tp / (tp + fp) if tp + fp else 1.0
            recall = tp / (tp + fn) if tp + fn else 1.0
            parts.append(f"{kind}: precision {precision:.3f} recall {recall:.3f} "
                         f"({tp} found, {fp} false, {fn} missed, {unmeasurable} copies not measurable)")
        terminalreporter.write_line(f"{ex:10s} " + "; ".join(parts))
