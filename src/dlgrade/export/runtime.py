"""Grading one question inside a platform's grading kernel (nbgrader, otter-grader).

The exported notebooks call these functions from their hidden test cells, in
the kernel that just ran the student's notebook. The question's hidden test
(``autograder/<ex>/tests.py``) runs against the live namespace through
:class:`~dlgrade.harness.submission.LocalSubmission`, with the same context as
``dlgrade grade``: profile, thresholds, per-student secret inputs (the secret
is derived from the autograder folder, so the copy the export writes gives the
same inputs). The platforms run student code and tests in one process; that
is their trust model, not dlgrade's sandbox.

Where the autograder folder is: ``$DLGRADE_COURSE`` (a folder holding
``autograder/<ex>/``), else the nearest folder upward from the working
directory that holds ``autograder/<ex>/exercise.yaml`` (the nbgrader course
folder; the otter submission folder, where otter copies the autograder files).

The student id that keys the secret inputs: ``$DLGRADE_STUDENT_ID``, else the
student folder of nbgrader's ``autograded/<student>/<ex>/``, else "student".
"""
from __future__ import annotations

import contextlib
import io
import os
import sys
from pathlib import Path

from dlgrade.errors import SpecError
from dlgrade.export.feedback import points_text, question_text
from dlgrade.harness.course import Exercise
from dlgrade.harness.questions import QuestionResult

__all__ = ["grade_question", "otter_case", "otter_public", "find_exercise", "student_id"]

STUDENT_ENV = "DLGRADE_STUDENT_ID"
_CACHE: dict = {}
"""(id(namespace), exercise, question) -> (namespace, result): otter's test cases of one question share a run."""


def find_exercise(exercise: str, start: Path | None = None) -> Exercise:
    """The exercise's specs from ``$DLGRADE_COURSE`` or the nearest course folder upward of ``start``."""
    root = os.environ.get("DLGRADE_COURSE")
    here = (start or Path.cwd()).resolve()
    candidates = [Path(root)] if root else [here, *here.parents]
    for folder in candidates:
        if (folder / "autograder" / exercise / "exercise.yaml").is_file():
            return Exercise.load(folder, exercise)
    where = f"$DLGRADE_COURSE={root}" if root else f"{Path.cwd()} or a folder above it"
    raise SpecError(f"no autograder/{exercise}/exercise.yaml in {where}",
                    hint="grade from the course folder that `dlgrade export` wrote, or set DLGRADE_COURSE")


def student_id(cwd: Path | None = None) -> str:
    """``$DLGRADE_STUDENT_ID``, else nbgrader's student folder name, else "student"."""
    if os.environ.get(STUDENT_ENV):
        return os.environ[STUDENT_ENV]
    here = (cwd or Path.cwd()).resolve()
    if here.parent.parent.name == "autograded":
        return here.parent.name
    return "student"


def run_one(exercise: str, qid: str, namespace: dict, *, profile: str = "quick") -> QuestionResult:
    """Run hidden question ``qid`` of ``exercise`` against ``namespace``; the result as ``dlgrade grade`` scores it."""
    return run_captured(exercise, qid, namespace, profile=profile)[0]


def run_captured(exercise: str, qid: str, namespace: dict, *, profile: str = "quick") -> tuple[QuestionResult, str]:
    """:func:`run_one`, and what the student's code printed (stdout and stderr) while the question ran."""
    from dlgrade.grade.keys import grading_secret
    from dlgrade.harness.context import Context
    from dlgrade.harness.questions import load_questions, run_question
    from dlgrade.harness.submission import LocalSubmission

    ex = find_exercise(exercise)
    found = [q for q in load_questions(ex.tests_path) if q.id == qid and not q.public]
    if not found:
        raise SpecError(f"{ex.tests_path}: no hidden question '{qid}'")
    prof = ex.profile(profile)
    ctx = Context(ex, profile, student_id=student_id(), secret=grading_secret(ex))
    sub = LocalSubmission(namespace, timeout=prof.request_timeout)
    # The code the kernel ran (IPython's input history), for the hidden tests' source checks.
    sub.sources = [s for s in namespace.get("In", []) if isinstance(s, str) and s.strip()]
    previous = os.environ.get("DLGRADE_GRADING")
    os.environ["DLGRADE_GRADING"] = "1"
    printed = io.StringIO()
    try:
        # Held back, so that the feedback comes first; and nbgrader gives 0 to a cell that writes to stderr.
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            return run_question(found[0], sub, ctx), printed.getvalue()
    finally:
        if previous is None:
            os.environ.pop("DLGRADE_GRADING", None)
        else:
            os.environ["DLGRADE_GRADING"] = previous


def grade_question(exercise: str, qid: str, namespace: dict | None = None, *, profile: str = "quick") -> float:
    """nbgrader test cell: print the question's feedback and return its points (nbgrader's partial credit)."""
    ns = namespace if namespace is not None else vars(sys.modules["__main__"])
    result, printed = run_captured(exercise, qid, ns, profile=profile)
    print(question_text(result))
    if printed.strip():
        print(f"\nprinted while {qid} was tested:\n{printed.rstrip()[-2000:]}")
    return float(result.earned)


def otter_case(exercise: str, qid: str, env: dict, *, at_least: float, profile: str = "quick") -> None:
    """otter test case worth the points between ``at_least - 1`` and ``at_least``: passes when the question
    earned at least ``at_least`` points. The question runs once per notebook; its cases share the result."""
    key = (id(env), exercise, qid, profile)
    if key not in _CACHE or _CACHE[key][0] is not env:
        _CACHE[key] = (env, run_one(exercise, qid, env, profile=profile))
    result = _CACHE[key][1]
    if result.earned + 1e-9 < at_least:
        raise AssertionError(f"{points_text(result.earned)} of {points_text(result.points)} points\n"
                             + question_text(result))


def otter_public(exercise: str, qid: str, env: dict) -> None:
    """otter public test case: the exercise's self-checks of ``qid`` (``check("q1")``), worth no points."""
    from dlgrade.check import public_questions
    from dlgrade.harness.questions import run_question
    from dlgrade.harness.submission import LocalSubmission

    sub = LocalSubmission(env)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        results = [run_question(q, sub) for q in public_questions(exercise, [qid])]
    failed = [r for r in results if r.error or not r.checks or not all(c.passed for c in r.checks)]
    if failed:
        raise AssertionError("self-check: not yet\n" + "\n".join(question_text(r) for r in failed))
