"""Run a trusted notebook (a reference solution) and its tests in this process.

For authors and calibration of reference notebooks only: student notebooks
are graded through ``dlgrade.grade``, in a sandbox.
"""
from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

from dlgrade.harness.context import Context
from dlgrade.harness.course import Exercise
from dlgrade.harness.notebook import code_cells, read_notebook, run_cells, short_answers
from dlgrade.harness.questions import load_questions, run_question
from dlgrade.harness.submission import CellRun, LocalSubmission, grader_fingerprints


def run_trusted(exercise: Exercise, notebook: Path, *, profile: str = "quick", train_seed: int = 0,
                calibrating: bool = False, questions: list[str] | None = None, student_id: str = "reference",
                shared_draws: list[str] | None = None):
    """Execute ``notebook`` in-process and run the exercise's hidden tests on it.

    ``shared_draws``: a list to which the hidden tests' draws from torch's process-wide generator
    outside ``dlgrade.train.seeded`` are added (``seeding.SharedDraws``; the notebook's own code, and
    its answers to requests, are not watched). With ``--workers`` such a draw can change what another
    grading thread's dropout network learns.
    """
    os.environ["DLGRADE_GRADING"] = "1"
    try:
        nb = read_notebook(notebook)
        ns: dict = {"__name__": "__main__"}
        prof = exercise.profile(profile)
        deadline = time.monotonic() + prof.time_limit
        grader_fingerprints()               # dlgrade's and torch's objects before the notebook can change them
        runs = run_cells(code_cells(nb), ns, deadline=deadline)
        watch = None
        if shared_draws is not None:
            from dlgrade.train.seeding import SharedDraws

            watch = SharedDraws()
        sub = LocalSubmission(ns, cells=[CellRun(c.index, c.cell_id, status, msg) for c, status, msg in runs],
                              markdown_answers=short_answers(nb), timeout=prof.request_timeout,
                              sources=[c.source for c in code_cells(nb)],
                              student_side=watch.pause if watch is not None else None)
        ctx = Context(exercise, profile, student_id=student_id, train_seed=train_seed, calibrating=calibrating)
        wanted = load_questions(exercise.tests_path)
        if questions:
            wanted = [q for q in wanted if q.id in questions]
        try:
            with watch if watch is not None else contextlib.nullcontext():
                return [run_question(q, sub, ctx) for q in wanted]
        finally:
            if watch is not None:
                shared_draws.extend(watch.found)
    finally:
        os.environ.pop("DLGRADE_GRADING", None)
