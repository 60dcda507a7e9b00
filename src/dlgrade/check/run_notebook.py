"""``dlgrade check NOTEBOOK``: run a notebook, then its public checks."""
from __future__ import annotations

import os
import time
from pathlib import Path

from dlgrade.check.report import CheckReport
from dlgrade.errors import DlgradeError
from dlgrade.harness.notebook import code_cells, read_notebook, run_cells, short_answers
from dlgrade.harness.questions import run_question
from dlgrade.harness.submission import CellRun, LocalSubmission


def exercise_of(nb, path: Path, exercise: str | None) -> str:
    if exercise:
        return exercise
    meta = nb.metadata.get("dlgrade", {})
    if isinstance(meta, dict) and isinstance(meta.get("exercise"), str):
        return meta["exercise"]
    raise DlgradeError(f"{path}: the notebook does not say which exercise it is",
                       hint="pass --exercise EX")


DEFAULT_TIME_LIMIT = 300.0
"""Seconds a notebook may run when no course folder gives its exercise's limit (a student's own copy)."""


def time_limit_of(exercise: str) -> float:
    """The notebook time limit of ``exercise``'s quick profile, from the course folder's
    ``exercise.yaml`` when there is one (a broken file is one clear error, as for ``grade``), else
    :data:`DEFAULT_TIME_LIMIT`."""
    from dlgrade.harness.course import find_course

    try:
        course = find_course()
    except DlgradeError:
        return DEFAULT_TIME_LIMIT
    if not (course.root / "autograder" / exercise / "exercise.yaml").is_file():
        return DEFAULT_TIME_LIMIT
    profiles = course.exercise(exercise).profiles
    return float(profiles["quick"].time_limit) if "quick" in profiles else DEFAULT_TIME_LIMIT


def run_public_checks(path: Path, *, questions=None, exercise=None, time_limit: float | None = None) -> CheckReport:
    """Run the notebook at ``path`` (each run stopped after ``time_limit`` seconds; default: see
    :func:`time_limit_of`), then its public checks."""
    from dlgrade.check import public_questions

    nb = read_notebook(path)
    ex = exercise_of(nb, path, exercise)
    wanted = public_questions(ex, questions)
    if time_limit is None:
        time_limit = time_limit_of(ex)
    worker = _sandbox_worker(Path(path).resolve().parent)
    if worker is not None:
        with worker:
            with worker.open(nb, student_id="self-check", time_limit=time_limit, request_timeout=120.0) as sub:
                results = [run_question(q, sub) for q in wanted]
                return CheckReport(ex, results, sandbox=f"in a sandbox: {worker.isolation}",
                                   notes=_cell_notes(sub.cells))
    ns: dict = {"__name__": "__main__"}
    os.environ["DLGRADE_GRADING"] = "1"  # check() calls inside the notebook stay quiet
    try:
        runs = run_cells(code_cells(nb), ns, deadline=time.monotonic() + time_limit)
    finally:
        os.environ.pop("DLGRADE_GRADING", None)
    cells = [CellRun(c.index, c.cell_id, status, msg) for c, status, msg in runs]
    sub = LocalSubmission(ns, cells=cells, markdown_answers=short_answers(nb))
    results = [run_question(q, sub) for q in wanted]
    return CheckReport(ex, results, sandbox="unsandboxed, in this process (no sandbox on this machine)",
                       notes=_cell_notes(cells))


def _cell_notes(cells) -> list[str]:
    return [f"cell {c.index + 1}: {c.message}" for c in cells if c.status == "error"]


def _sandbox_worker(folder: Path):
    """A sandboxed worker when bubblewrap is usable here, else None."""
    try:
        from dlgrade.sandbox import Worker, sandbox_available
    except ImportError:
        return None
    if not sandbox_available():
        return None
    return Worker(course_root=None, sandbox="bwrap", visible_paths=[folder])  # the student's files, read-only
