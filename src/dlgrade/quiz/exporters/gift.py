"""Moodle GIFT: the plain-text import format of Moodle's question bank.

Follows Moodle's own GIFT reader (``question/format/gift/format.php``):
``::name::`` names a question, ``[markdown]`` sets the text format, ``~ = # { } :``
and ``\\`` are escaped with a backslash, ``####`` starts general feedback,
``$CATEGORY:`` lines file questions by quiz and topic. Multiple-select weights
are right-minus-wrong (+100/k for each of the k right options, -100/k for each
wrong one). Open questions become essays (``{}``) with the model answer as
general feedback; GIFT has no place for a grader's rubric (Moodle XML keeps it).
Parameterised questions are written as several fixed variants in their topic's
category, for a random-question slot.

**Points.** GIFT has no field for a question's mark (Moodle sets marks per
quiz slot, default 1), so each question is preceded by a ``// points: N``
comment and the file starts with the points of one student's quiz and the
draws per pool; answer weights (percentages) are in the answers themselves.
Options are written in the export order (keys spread over the letters);
Moodle's quiz setting "shuffle within questions" reorders them per student.
"""
from __future__ import annotations

from dlgrade.quiz.exporters.common import named_instances, plain_phrases
from dlgrade.quiz.spec import Quiz
from dlgrade.quiz.variant import Instance, format_number, make_paper

_RESERVED = {"\\": "\\\\", "~": "\\~", "=": "\\=", "#": "\\#", "{": "\\{", "}": "\\}", ":": "\\:"}


def escape(text: str) -> str:
    """Escape GIFT's reserved characters; newlines become ``\\n``."""
    out = "".join(_RESERVED.get(ch, ch) for ch in text)
    return out.replace("\r", "").replace("\n", "\\n")


def weight(x: float) -> str:
    """A GIFT percentage weight: ``33.33333``, ``-50``, ``100``."""
    return f"{x:.5f}".rstrip("0").rstrip(".")


def _answers(inst: Instance) -> list[str]:
    q = inst.question
    if q.type == "single":
        return [("=" if c.correct else "~") + escape(c.text) + (f"#{escape(c.feedback)}" if c.feedback else "")
                for c in inst.choices]
    if q.type == "multi":
        k = sum(c.correct for c in inst.choices)
        return [f"~%{weight(100 / k if c.correct else -100 / k)}%{escape(c.text)}"
                + (f"#{escape(c.feedback)}" if c.feedback else "") for c in inst.choices]
    if q.type == "numeric":
        tol = max(q.numeric.tolerance, abs(inst.key) * q.numeric.rel_tolerance)
        return [f"#{inst.key:g}:{tol:g}" if tol else f"#{inst.key:g}"]
    phrases = plain_phrases(q)
    if phrases:
        return [f"=%100%*{escape(p)}*" for p in phrases]
    return []


def _question(inst: Instance, name: str) -> str:
    q = inst.question
    prompt = inst.prompt if q.parent is None else f"(Follow-up to {q.parent}) {inst.prompt}"
    head = f"::{escape(name)}::[markdown]{escape(prompt)}"
    feedback = inst.explanation if q.type not in ("short", "interview") else \
        f"{q.model_answer}\n\n{inst.explanation}"
    answers = _answers(inst)
    if q.type == "numeric":
        return head + "{" + answers[0] + f"####{escape(feedback)}" + "}"
    body = "".join(f"\n\t{a}" for a in answers)
    return head + "{" + body + f"\n\t####{escape(feedback)}\n" + "}"


def to_gift(quiz: Quiz, *, n_variants: int = 3) -> str:
    """The quiz as GIFT text, one category per topic."""
    total = make_paper(quiz, "points-check").max_points
    draws = "; ".join(f"{p.draw} of topic {p.topic}" for p in quiz.pools)
    lines = [f"// {quiz.title} ({quiz.id}), written by dlgrade", f"// {quiz.description}".rstrip(),
             f"// points: a student's quiz is worth {format_number(total)} points"
             + (f" (random questions: {draws})" if draws else ""),
             "// Moodle does not read marks from GIFT: set each slot's mark to the 'points' above its question.", ""]
    for topic in quiz.topics:
        lines += [f"$CATEGORY: $course$/top/dlgrade/{quiz.id}/{topic}", ""]
        for fq, inst, name in named_instances(quiz, topic, n_variants):
            points = "0 (optional, not counted)" if fq.optional else format_number(fq.points)
            lines += [f"// points: {points} | {fq.type} | {fq.difficulty} | source: {fq.source}"
                      .replace("\n", " "), _question(inst, name), ""]
    return "\n".join(lines)

