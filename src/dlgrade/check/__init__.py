"""Students' self-checks: the public tests of an exercise, with friendly feedback.

Inside a notebook, ``from dlgrade import check; check("q1")`` runs the public
checks of question q1 against the live kernel (the setup cell defines
``DLGRADE_EXERCISE``). From a terminal, ``dlgrade check NOTEBOOK`` runs the
whole notebook first, sandboxed where the machine allows it. Public checks
give no points: the grade comes from hidden tests.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from dlgrade.check.report import CheckReport
from dlgrade.errors import DlgradeError
from dlgrade.harness.questions import load_questions, run_question

__all__ = ["CheckReport", "check_in_kernel", "main", "public_questions"]

PUBLIC_DIR = Path(__file__).parent / "public"
"""Copies of ``autograder/<ex>/public.py`` (as ``<ex>.py``) and ``factories.py`` (``<ex>_factories.py``)
that the wheel's build (``setup.py``) puts into the package."""


def public_check_file(exercise: str) -> Path:
    """Where the self-checks of ``exercise`` live: ``autograder/<ex>/public.py`` of the course
    folder when there is one, else the copy that ships in the package."""
    from dlgrade.harness.course import find_course

    candidates = []
    try:
        candidates.append(find_course().root / "autograder" / exercise / "public.py")
    except DlgradeError:
        pass
    candidates.append(PUBLIC_DIR / f"{exercise}.py")
    for path in candidates:
        if path.is_file():
            return path
    known = sorted({p.parent.name for c in candidates[:-1] for p in c.parents[1].glob("*/public.py")}
                   | {p.stem for p in PUBLIC_DIR.glob("*.py")
                      if p.stem != "__init__" and not p.stem.endswith("_factories")})
    raise DlgradeError(f"no self-checks for exercise '{exercise}'", hint=f"known: {', '.join(known) or 'none'}")


def public_questions(exercise: str, questions: list[str] | None = None):
    """The public questions of ``exercise`` (all, or those named)."""
    path = public_check_file(exercise)
    found = load_questions(path)
    if questions:
        unknown = sorted(set(questions) - {q.id for q in found})
        if unknown:
            raise DlgradeError(f"exercise '{exercise}' has no question {', '.join(unknown)}",
                               hint=f"questions: {', '.join(q.id for q in found)}")
        found = [q for q in found if q.id in questions]
    return found


def check_in_kernel(question: str | None = None, *, namespace: dict | None = None):
    """Run public checks against the notebook's namespace; returns a :class:`CheckReport`.

    Does nothing while the grader executes the notebook (the grader runs its own tests).
    """
    if os.environ.get("DLGRADE_GRADING") == "1":
        return None
    from dlgrade.harness.submission import LocalSubmission

    ns = namespace if namespace is not None else vars(sys.modules["__main__"])
    exercise = ns.get("DLGRADE_EXERCISE")
    if not isinstance(exercise, str):
        raise DlgradeError("DLGRADE_EXERCISE is not set: run the notebook's first (setup) cell")
    questions = public_questions(exercise, [question] if question else None)
    sub = LocalSubmission(ns)
    return CheckReport(exercise, [run_question(q, sub) for q in questions], sandbox="in this kernel")


def main(notebook: Path, *, questions: list[str] | None = None, exercise: str | None = None,
         time_limit: float | None = None) -> CheckReport:
    """Run ``notebook`` and its public checks; sandboxed when the machine allows it. ``time_limit``: seconds
    the notebook may run (default: the exercise's quick profile, as grading has it)."""
    from dlgrade.check.run_notebook import run_public_checks

    return run_public_checks(Path(notebook), questions=questions, exercise=exercise, time_limit=time_limit)
