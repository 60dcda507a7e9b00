"""Quiz specs: frozen dataclasses read from ``quizzes/*.yaml`` and validated field by field.

Loading and validation live in :mod:`dlgrade.quiz.parse`; the schema is in ``docs/quizzes.md``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

from dlgrade.quiz import formula as fx
from dlgrade.rubric.grade import Rubric

QUESTION_TYPES = ("single", "multi", "numeric", "short", "interview")
DIFFICULTIES = ("easy", "medium", "hard")
DEFAULT_POINTS = {"single": 1, "multi": 2, "numeric": 1, "short": 2, "interview": 5}
@dataclass(frozen=True)
class Choice:
    """One option of a single- or multiple-choice question."""

    text: str
    """What the student sees."""
    correct: bool = False
    """Whether choosing it is right."""
    feedback: str = ""
    """Optional note shown when this option is chosen."""


@dataclass(frozen=True)
class Param:
    """A value drawn per student for a parameterised question."""

    name: str
    """Placeholder name used as ``{name}`` in the prompt and as a name in the formula."""
    values: tuple[int | float, ...]
    """The values a student may get (drawn with the student's seed)."""


@dataclass(frozen=True)
class NumericKey:
    """The key of a numeric question: a literal value or a formula of the parameters."""

    value: float | None = None
    """The answer, when it is a fixed number."""
    formula: str | None = None
    """Arithmetic of the parameters (see :mod:`dlgrade.quiz.formula`) giving the answer."""
    tolerance: float = 0.0
    """Absolute tolerance: answers within it are right."""
    rel_tolerance: float = 0.0
    """Relative tolerance (0.01 = 1%); the larger of the two tolerances applies."""
    unit: str = ""
    """Unit shown after the answer box (``%``, ``parameters``...)."""

    def value_for(self, values: Mapping[str, float]) -> float:
        """The key for one student's parameter values."""
        return self.value if self.formula is None else fx.evaluate(self.formula, values)

    def accepts(self, answer: float, key: float) -> bool:
        """Whether ``answer`` is within tolerance of ``key``."""
        allowed = max(self.tolerance, abs(key) * self.rel_tolerance)
        return math.isclose(answer, key, rel_tol=1e-9, abs_tol=1e-12) or abs(answer - key) <= allowed


@dataclass(frozen=True)
class Question:
    """One question of the bank, with its key, explanation and source."""

    id: str
    """Identifier, unique within its quiz (lower case, digits, ``-_.``); response columns use it."""
    type: str
    """One of single, multi, numeric, short, interview."""
    topic: str
    """Topic; pools draw N of the questions of a topic."""
    difficulty: str
    """easy, medium or hard."""
    prompt: str
    """The question text; may use ``{param}`` placeholders."""
    explanation: str
    """Shown after answering; may use ``{param}`` and ``{answer}``."""
    source: str
    """The lesson section the question comes from."""
    points: float
    """What the question is worth."""
    choices: tuple[Choice, ...] = ()
    """Options of single/multi questions."""
    shuffle: bool = True
    """Whether choice order is shuffled per student."""
    numeric: NumericKey | None = None
    """Key of a numeric question."""
    params: tuple[Param, ...] = ()
    """Parameters drawn per student (numeric questions)."""
    rubric: Rubric | None = None
    """Key points of a short or interview answer."""
    model_answer: str = ""
    """A strong answer, shown after answering and in the instructor key."""
    follow_ups: tuple["Question", ...] = ()
    """Questions asked right after this one (interview follow-ups)."""
    parent: str | None = None
    """Id of the question this one follows up, if any."""
    optional: bool = False
    """Asked and given feedback, but not counted in the score or the total (e.g. follow-ups beyond the lesson)."""

    @property
    def is_open(self) -> bool:
        return self.type in ("short", "interview")

    @property
    def correct_indices(self) -> tuple[int, ...]:
        return tuple(i for i, c in enumerate(self.choices) if c.correct)


@dataclass(frozen=True)
class Pool:
    """Draw ``draw`` of the questions of ``topic`` for each student."""

    topic: str
    """The topic drawn from."""
    draw: int
    """How many of its questions each student gets."""


@dataclass(frozen=True)
class Quiz:
    """A quiz: its questions (follow-ups nested in their parent) and how they are drawn."""

    id: str
    """Identifier; with the student id it seeds each student's variant."""
    title: str
    """Shown at the top of the quiz and of exports."""
    description: str
    """One paragraph on what the quiz covers."""
    questions: tuple[Question, ...]
    """Top-level questions in bank order."""
    pools: tuple[Pool, ...] = ()
    """Per-topic draws; topics without a pool are asked in full."""
    shuffle_questions: bool = False
    """Whether question order is shuffled per student (follow-ups stay after their parent)."""
    path: str = ""
    """The file it was read from."""

    def all_questions(self) -> list[Question]:
        """Every question, each parent followed by its follow-ups."""
        out: list[Question] = []
        for q in self.questions:
            out.append(q)
            out.extend(q.follow_ups)
        return out

    def question(self, qid: str) -> Question:
        for q in self.all_questions():
            if q.id == qid:
                return q
        raise KeyError(qid)

    @property
    def topics(self) -> list[str]:
        return list(dict.fromkeys(q.topic for q in self.questions))
