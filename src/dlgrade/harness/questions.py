"""Hidden and public tests: questions, checks and how points are given.

A test module (``autograder/<ex>/tests.py`` for hidden tests,
``dlgrade/check/public/<ex>.py`` for the students' self-checks) defines
questions with the :func:`question` decorator::

    @question("q2", points=3, title="Two-layer MLP solves XOR")
    def q2(sub, t):
        model = sub.call_with("build_xor_mlp", seed=0)
        ...
        t.check(solved >= 8, f"{solved}/10 seeds reach 100% on XOR", points=3,
                hint="use a nonlinearity between the layers")

Scoring rule: a question's score is the sum of the points of its checks that
passed, capped at the question's points. A :class:`StudentError` raised while
the question runs (missing function, exception, bad output, timeout) stops the
question: checks already passed keep their points, the rest are lost, and the
error becomes the question's message. Any other exception in a test is a
grader bug: the question scores 0, and the result is flagged for review. A
question that used dlgrade's objects on the student's side while the notebook
changed dlgrade's or torch's own objects (``harness.integrity``) scores 0 and
is flagged for review.
"""
from __future__ import annotations

import importlib.util
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from dlgrade.errors import SpecError
from dlgrade.harness.errors import StudentError


@dataclass(frozen=True)
class Question:
    """One graded question of an exercise."""

    id: str
    """Short id used in notebooks and reports, e.g. "q1"."""
    points: float
    """Maximum points."""
    title: str
    """What the question asks, in a few words."""
    run: Callable
    """``run(sub, t)``: the test body, given a Submission and a Checks."""
    public: bool = False
    """Public questions are the students' self-checks (no points in the grade)."""


def question(qid: str, *, points: float, title: str, public: bool = False):
    """Decorator that turns ``def q(sub, t)`` into a :class:`Question`."""
    if points < 0:
        raise ValueError("points must be >= 0")

    def deco(fn):
        q = Question(qid, float(points), title, fn, public)
        fn.__dlgrade_question__ = q
        return fn

    return deco


def factories_beside(path: Path) -> Path:
    """Where the exercise's own factories are for the tests or self-checks at ``path``:
    ``factories.py`` beside ``autograder/<ex>/tests.py`` or ``public.py``, and ``<ex>_factories.py``
    beside the self-check ``<ex>.py`` shipped in the package."""
    path = Path(path)
    if path.name in ("tests.py", "public.py"):
        return path.with_name("factories.py")
    return path.with_name(f"{path.stem}_factories.py")


def load_questions(path: Path) -> list[Question]:
    """Questions defined in the test module at ``path``, in file order (the exercise's own factories,
    :func:`factories_beside`, are registered first)."""
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"{path}: test module not found")
    if factories_beside(path).is_file():
        from dlgrade.harness.factories import load_exercise_factories

        load_exercise_factories(factories_beside(path))
    name = f"dlgrade_tests_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - report which spec file is broken
        raise SpecError(f"{path}: could not load tests: {type(exc).__name__}: {exc}") from exc
    found = [v.__dlgrade_question__ for v in vars(module).values() if hasattr(v, "__dlgrade_question__")]
    found.sort(key=lambda q: q.run.__code__.co_firstlineno)
    ids = [q.id for q in found]
    if len(set(ids)) != len(ids):
        raise SpecError(f"{path}: duplicate question ids {sorted({i for i in ids if ids.count(i) > 1})}")
    return found


@dataclass(frozen=True)
class CheckResult:
    """One check inside a question."""

    message: str
    """What was expected, e.g. "reaches 100% on AND"."""
    points: float
    """Points this check is worth."""
    passed: bool
    hint: str = ""
    """Shown to the student when the check fails."""
    detail: str = ""
    """Measured values, e.g. "accuracy 0.912 (needs >= 0.930)"."""


@dataclass(frozen=True)
class QuestionResult:
    """The outcome of one question for one submission."""

    id: str
    title: str
    points: float
    earned: float
    checks: tuple[CheckResult, ...]
    error: dict | None = None
    """The StudentError (kind, message) that stopped the question, if any."""
    needs_review: bool = False
    """An instructor should look (short answers, grader errors)."""
    seconds: float = 0.0
    measurements: dict = field(default_factory=dict)
    """Named values measured on the grader side (used by calibration)."""
    bounds: dict = field(default_factory=dict)
    """For measurements compared with a threshold: "min" (needs >=) or "max" (needs <=)."""
    review_reasons: tuple[str, ...] = ()
    """Why an instructor should look (empty when ``needs_review`` is false)."""
    figures: tuple = ()
    """(caption, PNG bytes) pairs the test drew for the student's feedback (kept out of :meth:`to_dict`:
    the grading step stores them as files)."""

    def to_dict(self) -> dict:
        return {
            "id": self.id, "title": self.title, "points": self.points, "earned": self.earned,
            "checks": [vars(c) for c in self.checks], "error": self.error,
            "needs_review": self.needs_review, "seconds": round(self.seconds, 3),
            "measurements": self.measurements, "bounds": self.bounds, "review_reasons": list(self.review_reasons),
        }


class Checks:
    """What a test body uses to record checks.

    ``t.ctx`` is the grading :class:`~dlgrade.harness.context.Context` (profile,
    recipes, thresholds, trusted data, secret held-out sets); it is None when a
    public check runs without one.
    """

    def __init__(self, context=None):
        self.ctx = context
        self.results: list[CheckResult] = []
        self.measurements: dict[str, float] = {}
        self.bounds: dict[str, str] = {}
        self.review_reasons: list[str] = []
        self.figures: list[tuple[str, bytes]] = []

    # -- recording ----------------------------------------------------------------
    def check(self, condition, message: str, *, points: float, hint: str = "", detail: str = "") -> bool:
        """Record a check worth ``points``; returns whether it passed."""
        passed = bool(condition)
        self.results.append(CheckResult(message, float(points), passed, hint, detail))
        return passed

    def close(self, actual, expected, message: str, *, points: float, rtol: float = 1e-5,
              atol: float = 1e-8, hint: str = "") -> bool:
        """Check that ``actual`` matches ``expected`` numerically (same shape, within tolerance)."""
        a, e = np.asarray(actual), np.asarray(expected)
        ok = a.shape == e.shape and a.dtype.kind in "biuf" and bool(
            np.allclose(a.astype(float), e.astype(float), rtol=rtol, atol=atol, equal_nan=False))
        if a.shape != e.shape:
            detail = f"shape {a.shape}, expected {e.shape}"
        elif ok or a.size > 20:
            detail = "" if ok else f"max difference {_max_diff(a, e):.3g}"
        else:
            detail = f"got {np.array2string(a, precision=4)}, expected {np.array2string(e, precision=4)}"
        return self.check(ok, message, points=points, hint=hint, detail=detail)

    def measure(self, name: str, value: float) -> float:
        """Record a named measurement (accuracies etc.) for reports and calibration."""
        self.measurements[name] = float(value)
        return float(value)

    def at_least(self, name: str, value: float, message: str, *, points: float, hint: str = "") -> bool:
        """Check ``value >= threshold(name)`` for the current profile; records the measurement."""
        self.measure(name, value)
        self.bounds[name] = "min"
        limit = self.threshold(name)
        return self.check(value >= limit, message, points=points, hint=hint,
                          detail=f"{name} = {value:.4g} (needs >= {limit:.4g})")

    def at_most(self, name: str, value: float, message: str, *, points: float, hint: str = "") -> bool:
        """Check ``value <= threshold(name)`` for the current profile; records the measurement."""
        self.measure(name, value)
        self.bounds[name] = "max"
        limit = self.threshold(name)
        return self.check(value <= limit, message, points=points, hint=hint,
                          detail=f"{name} = {value:.4g} (needs <= {limit:.4g})")

    def figure(self, png: bytes, caption: str = "") -> None:
        """Show a PNG (drawn on the grader's side, e.g. from the student's figure's data) in the feedback."""
        self.figures.append((str(caption), bytes(png)))

    def review(self, reason: str) -> None:
        """Flag this question for an instructor's review."""
        self.review_reasons.append(reason)

    # -- context ------------------------------------------------------------------
    def threshold(self, name: str) -> float:
        if self.ctx is None:
            raise SpecError(f"threshold {name!r} requested but no grading context was given")
        return self.ctx.threshold(name)


def _max_diff(a: np.ndarray, e: np.ndarray) -> float:
    try:
        return float(np.nanmax(np.abs(a.astype(float) - e.astype(float))))
    except (ValueError, TypeError):
        return math.nan


def _integrity_findings(sub) -> list[str]:
    """``sub.integrity_findings()`` where the submission offers it (see ``harness.integrity``)."""
    check = getattr(sub, "integrity_findings", None)
    return list(check()) if callable(check) else []


def run_question(q: Question, sub, context=None) -> QuestionResult:
    """Run one question and score it by the rule in this module's docstring."""
    t = Checks(context)
    error = None
    start = time.perf_counter()
    try:
        q.run(sub, t)
    except StudentError as exc:
        error = exc.to_dict()
        if exc.kind == "grader_error":   # dlgrade's own code failed in the student's process: not the student's error
            t.review(exc.message)
    except SpecError:
        raise
    except Exception as exc:  # noqa: BLE001 - a broken test must not stop the batch
        error = {"kind": "grader_error", "message": f"the grader could not finish this question "
                 f"({type(exc).__name__}: {exc})"[:500]}
        t.review(error["message"])
    findings = _integrity_findings(sub)
    if findings:
        t.check(False, "the notebook leaves dlgrade's and torch's own objects unchanged", points=0,
                detail="; ".join(findings)[:500],
                hint="do not replace or modify functions of dlgrade or torch: this question is held at 0 "
                     "until an instructor reviews it")
        t.review("the notebook changed dlgrade's or torch's objects: " + "; ".join(findings)[:400])
    earned = 0.0 if findings else min(q.points, sum(c.points for c in t.results if c.passed))
    return QuestionResult(
        q.id, q.title, q.points, round(earned, 6), tuple(t.results), error,
        needs_review=bool(t.review_reasons), seconds=time.perf_counter() - start,
        measurements=dict(t.measurements), bounds=dict(t.bounds), review_reasons=tuple(t.review_reasons),
        figures=tuple(t.figures),
    )
