"""Fixtures for the grading tests: a tiny purpose-made course, submission builders, a stand-in worker.

The course (``tiny_course/``: one exercise ``tiny`` with three questions,
locked cells, a threshold and a rubric) is copied to a temporary folder for
each test. Submissions are built from its template notebook (see ``builders``).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the helper modules below, for the tests and their subprocesses

from builders import copy_course, grader, template_of, write_submission  # noqa: E402


@pytest.fixture()
def course(tmp_path) -> Path:
    """A copy of the tiny course."""
    return copy_course(tmp_path / "course")


@pytest.fixture()
def make_submission(course, tmp_path):
    """``make_submission(name, add=..., predict=..., answer=..., extra=[...])`` -> path in tmp/submissions/."""
    def build(name: str, **answers) -> Path:
        return write_submission(template_of(course), tmp_path / "submissions" / name, **answers)

    return build


@pytest.fixture()
def grade(course, tmp_path):
    """``grade(paths, **options)`` -> BatchSummary, outputs in tmp/out/tiny/."""
    return grader(course, tmp_path / "out")


@pytest.fixture()
def read_result():
    """``read_result(summary, name)``: the result JSON ``results/<name>.json`` of a batch."""
    def read(summary, name: str) -> dict:
        return json.loads((summary.out / "results" / f"{name}.json").read_text())

    return read
