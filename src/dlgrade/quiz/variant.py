"""Each student's variant of a quiz: which questions, which parameter values, which choice order.

Everything is derived from ``student_seed(student_id, quiz_id)`` with
SHA-256, never from Python's ``hash()`` or the ``random`` module, so a regrade
on any machine and any Python version reproduces exactly what the student saw.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from dlgrade.quiz.spec import Choice, Question, Quiz

_PLACEHOLDER_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def student_seed(student_id: str, quiz_id: str) -> int:
    """A 64-bit seed from (student id, quiz id): stable across machines and Python versions."""
    digest = hashlib.sha256(f"dlgrade-quiz\x1f{quiz_id}\x1f{student_id.strip()}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _draw(seed: int, label: str) -> int:
    """A 64-bit number for ``label`` under ``seed`` (independent draws for independent labels)."""
    return int.from_bytes(hashlib.sha256(f"{seed}\x1f{label}".encode()).digest()[:8], "big")


def seeded_order(seed: int, label: str, items: list) -> list:
    """``items`` in a seeded order (a sort by per-item hash: a permutation, stable everywhere)."""
    return [x for (_, _, x) in sorted((_draw(seed, f"{label}\x1f{i}"), i, x) for i, x in enumerate(items))]


def format_number(x: float) -> str:
    """Numbers as students read them: integers without a decimal point, others with up to 6 significant digits."""
    if float(x).is_integer():
        return f"{int(x):,}"
    return f"{x:.6g}"


def fill(text: str, values: dict) -> str:
    """Replace ``{name}`` placeholders that are in ``values``; leave any other braces alone."""
    def sub(m: re.Match) -> str:
        name = m.group(1)
        if name not in values:
            return m.group(0)
        v = values[name]
        return format_number(v) if isinstance(v, (int, float)) else str(v)
    return _PLACEHOLDER_RE.sub(sub, text)


@dataclass(frozen=True)
class Instance:
    """One question as one student sees it."""

    question: Question
    """The question in the bank."""
    prompt: str
    """The prompt with this student's parameter values filled in."""
    choices: tuple[Choice, ...] = ()
    """Options in this student's order (lettered A, B, ... in that order)."""
    values: dict = field(default_factory=dict)
    """This student's parameter values."""
    key: float | None = None
    """Numeric key computed for these values."""
    explanation: str = ""
    """Explanation with values and ``{answer}`` filled in."""

    @property
    def id(self) -> str:
        return self.question.id

    @property
    def correct_letters(self) -> list[str]:
        return [chr(65 + i) for i, c in enumerate(self.choices) if c.correct]


@dataclass(frozen=True)
class Paper:
    """A student's variant of a quiz: the seeded selection, order and values of its questions."""

    quiz: Quiz
    """The quiz it is drawn from."""
    student_id: str
    """Whose variant it is."""
    seed: int
    """``student_seed(student_id, quiz.id)``."""
    instances: tuple[Instance, ...]
    """The questions to ask, in order (follow-ups right after their parent)."""

    @property
    def max_points(self) -> float:
        """Points of the questions that count (optional follow-ups do not)."""
        return sum(i.question.points for i in self.instances if not i.question.optional)

    def instance(self, qid: str) -> Instance:
        for i in self.instances:
            if i.id == qid:
                return i
        raise KeyError(qid)


def make_instance(question: Question, seed: int, *, values: dict | None = None, shuffle: bool = True) -> Instance:
    """Instantiate ``question`` for ``seed`` (or for explicit parameter ``values``).

    ``shuffle=False`` keeps the bank's choice order (exports do).
    """
    if values is None:
        values = {p.name: p.values[_draw(seed, f"param\x1f{question.id}\x1f{p.name}") % len(p.values)]
                  for p in question.params}
    key = question.numeric.value_for(values) if question.numeric is not None else None
    choices = question.choices
    if choices and question.shuffle and shuffle:
        choices = tuple(seeded_order(seed, f"choices\x1f{question.id}", list(choices)))
    answer = format_number(key) if key is not None else ""
    return Instance(question, fill(question.prompt, values), choices, dict(values), key,
                    fill(question.explanation, {**values, "answer": answer}))


def select(quiz: Quiz, seed: int) -> list[Question]:
    """The top-level questions a seed gets: pools draw N of M per topic; bank order is kept unless shuffled."""
    drawn: set[str] = set()
    for pool in quiz.pools:
        members = [q.id for q in quiz.questions if q.topic == pool.topic]
        drawn.update(seeded_order(seed, f"pool\x1f{pool.topic}", members)[: pool.draw])
    pooled = {p.topic for p in quiz.pools}
    chosen = [q for q in quiz.questions if q.topic not in pooled or q.id in drawn]
    if quiz.shuffle_questions:
        chosen = seeded_order(seed, "questions", chosen)
    return chosen


def make_paper(quiz: Quiz, student_id: str) -> Paper:
    """The variant of ``quiz`` for ``student_id``; the same inputs always give the same paper."""
    if not isinstance(student_id, str) or not student_id.strip():
        raise ValueError("student id must be a non-empty string")
    seed = student_seed(student_id, quiz.id)
    instances = []
    for q in select(quiz, seed):
        instances.append(make_instance(q, seed))
        instances.extend(make_instance(f, seed) for f in q.follow_ups)
    return Paper(quiz, student_id.strip(), seed, tuple(instances))
