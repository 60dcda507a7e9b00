"""Shared fixtures: tiny builders for notebooks and the location of the reference data."""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def make_notebook(*cells, exercise: str | None = None, student_id: str | None = None):
    """A v4.5 notebook from cells given as source strings or (source, role[, question]) tuples.

    Markdown cells are written as ("md", source[, role, question]).
    """
    out = []
    for i, spec in enumerate(cells):
        if isinstance(spec, str):
            spec = (spec,)
        if spec[0] == "md":
            cell = nbformat.v4.new_markdown_cell(spec[1])
            rest = spec[2:]
        else:
            cell = nbformat.v4.new_code_cell(spec[0])
            rest = spec[1:]
        if rest:
            meta = {"role": rest[0]}
            if len(rest) > 1:
                meta["question"] = rest[1]
            cell.metadata["dlgrade"] = meta
        cell["id"] = f"c{i}"
        out.append(cell)
    nb = nbformat.v4.new_notebook(cells=out)
    meta = {}
    if exercise:
        meta["exercise"] = exercise
    if student_id:
        meta["student_id"] = student_id
    if meta:
        nb.metadata["dlgrade"] = meta
    return nb


@pytest.fixture()
def notebook_factory():
    return make_notebook


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data when present; tests that need it skip otherwise."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"reference data not present at {SHARED_DATA}")
    return SHARED_DATA
