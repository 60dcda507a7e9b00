"""Step 6: the submission's score and the record written to ``results/<name>.json``.

**Scoring rule.** A question earns the points of its passed checks, capped at
its points (partial credit check by check); an error in a question (missing
function, exception, bad output, timeout, crash) stops that question only:
checks passed before it keep their points. The submission's score is the sum
over the exercise's graded questions. A question is flagged ``needs_review``
when its test asks for it (short answers are always flagged) or when the
grader itself failed.

**Status**: ``graded``; ``unreadable`` (not a notebook: every question 0);
``not_run`` (the notebook could not run at all: only what the grader can
check without running it, like short answers, can earn points);
``grader_error`` (the grader failed: flagged for review).
"""
from __future__ import annotations

import platform
import sys

from dlgrade import __version__
from dlgrade.grade.job import Grading, Job
from dlgrade.harness.notebook import code_cells, short_answers

SCHEMA = 1


def score_submission(job: Job, grading: Grading, worker) -> None:
    item = job.item
    score = round(sum(r.earned for r in job.results), 4)
    max_points = round(grading.max_points, 4)
    problem = job.problem or {}
    status = {"unreadable": "unreadable", "grader_error": "grader_error", None: "graded"}.get(
        problem.get("kind"), "not_run")
    job.record = {
        "schema": SCHEMA,
        "student_id": item.student_id,
        "name": item.name,
        "file": item.origin,
        "sha256": item.sha256,
        "id_source": item.id_source,
        "late_marker": item.late,
        "exercise": grading.exercise.id,
        "profile": grading.profile.name,
        "grader": grading.grader,
        "status": status,
        "score": score,
        "max_points": max_points,
        "percent": round(100.0 * score / max_points, 2) if max_points else 0.0,
        "needs_review": [r.id for r in job.results if r.needs_review] + (
            ["(notebook)"] if status == "grader_error" else []),
        "problem": job.problem,
        "messages": list(job.messages),
        "cells": [{"index": c.index, "cell_id": c.cell_id, "status": c.status, "message": c.message}
                  for c in job.cells],
        "questions": [r.to_dict() | {"figures": job.question_figures.get(r.id, [])} for r in job.results],
        "answers": short_answers(job.nb) if job.nb is not None else {},
        # The code as graded (after locked cells were restored): `dlgrade similarity` compares it.
        "code": [{"index": c.index, "cell_id": c.cell_id, "role": c.role, "source": c.source}
                 for c in code_cells(job.nb)] if job.nb is not None else [],
        "figures": list(job.figures),
        "timings": {k: round(v, 3) for k, v in job.timings.items()},
        "data": grading.data,
        "isolation": job.isolation,
        "versions": versions(),
    }


def versions() -> dict:
    """Versions of what graded: dlgrade, Python and the numeric libraries loaded in the grader."""
    out = {"dlgrade": __version__, "python": platform.python_version()}
    for name in ("numpy", "torch", "nbformat"):
        module = sys.modules.get(name)
        if module is not None and hasattr(module, "__version__"):
            out[name] = str(module.__version__)
    return out
