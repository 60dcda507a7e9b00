"""Tiny builders for the grading tests: the tiny course, its submissions, a grader with the stand-in worker."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import yaml

from fake_worker import FakeWorker

TINY_COURSE = Path(__file__).resolve().parent / "tiny_course"

GOOD_ADD = "def add(a, b):\n    return np.asarray(a) + np.asarray(b)"
GOOD_PREDICT = "def predict(X):\n    X = np.asarray(X)\n    return (X[:, 0] > X[:, 1]).astype(int)"
GOOD_ANSWER = "We need unseen data to detect overfitting and to see how the model generalizes."
SETUP, ADD, PREDICT, ANSWER = 1, 2, 4, 6
"""Positions of the tiny template's setup, answer and short-answer cells."""


def write_submission(template: Path, path: Path, *, add: str = GOOD_ADD, predict: str = GOOD_PREDICT,
                     answer: str = GOOD_ANSWER, extra=(), setup: str | None = None,
                     metadata: dict | None = None) -> Path:
    """The tiny template with these answers (correct unless given); ``extra`` code cells are appended."""
    nb = nbformat.read(template, as_version=4)
    nb.cells[ADD].source, nb.cells[PREDICT].source, nb.cells[ANSWER].source = add, predict, answer
    if setup is not None:
        nb.cells[SETUP].source = setup
    for i, code in enumerate(extra):
        cell = nbformat.v4.new_code_cell(code)
        cell["id"] = f"extra{i}"
        nb.cells.append(cell)
    if metadata:
        nb.metadata["dlgrade"] = dict(nb.metadata.get("dlgrade", {})) | metadata
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def write_v3(path: Path, *sources: str) -> Path:
    """A notebook in the old nbformat 3 layout (worksheets) with these code cells."""
    cells = [{"cell_type": "code", "input": s, "language": "python", "outputs": [], "metadata": {}}
             for s in sources]
    path.write_text(json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {"name": ""},
                                "worksheets": [{"cells": cells, "metadata": {}}]}))
    return path


def set_profile(course: Path, profile: str = "quick", **fields) -> None:
    """Change fields of a profile in the course's tiny exercise.yaml."""
    path = course / "autograder" / "tiny" / "exercise.yaml"
    spec = yaml.safe_load(path.read_text())
    spec["profiles"][profile].update(fields)
    path.write_text(yaml.safe_dump(spec))


def copy_course(dest: Path) -> Path:
    """A copy of the tiny course at ``dest``."""
    return Path(shutil.copytree(TINY_COURSE, dest))


def template_of(course: Path) -> Path:
    return course / "assignments" / "tiny" / "tiny.ipynb"


def grader(course: Path, out: Path):
    """``run(paths, **options)``: :func:`dlgrade.grade.main` on the tiny exercise with the stand-in worker."""
    from dlgrade.grade import main

    def run(paths, **options):
        options = {"exercise": "tiny", "course": course, "out": out, "progress": False, "workers": 1,
                   "worker_factory": FakeWorker} | options
        return main([Path(p) for p in paths], **options)

    return run
