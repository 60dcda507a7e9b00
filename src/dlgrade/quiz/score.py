"""Scoring one response to one question instance, with the feedback a student sees.

Rules, by type:

* ``single``: full points for the correct option, else 0.
* ``multi``: *right minus wrong*: ``max(0, (right chosen - wrong chosen) / number of right options)``
  of the points. Choosing every option therefore earns 0 unless every option is right.
  (The same weights are written to Moodle exports: +100/k per right option, -100/k per wrong one.)
* ``numeric``: full points within the tolerance, else 0. ``535,818``, ``535818``,
  ``1.5e8``, ``150 million`` and ``15.3%`` are all read as numbers; a trailing
  ``%`` divides by 100 unless the question's unit is ``%``.
* ``short`` and ``interview``: the rubric's fraction (:func:`dlgrade.rubric.grade_text`) of the points.

A choice response names options by their letter *as shown to that student*
(``B``, ``a,c``, ``A; C``), or by the option's exact text.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from dlgrade.rubric.grade import SemanticMatcher, grade_text
from dlgrade.quiz.variant import Instance, format_number

_MULTIPLIERS = {"thousand": 1e3, "k": 1e3, "million": 1e6, "m": 1e6, "mn": 1e6, "billion": 1e9, "bn": 1e9,
                "b": 1e9}


class ResponseError(ValueError):
    """A response that cannot be read for its question type (scored 0, with this message)."""


def parse_number(text: str) -> float:
    """Read a number as students write it: separators, exponents, 'million', a trailing %."""
    s = str(text).strip().lower().replace("\u2212", "-")
    s = re.sub(r"(?<=\d)[,_ ](?=\d{3}(?!\d))", "", s)
    m = re.fullmatch(r"([-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?)\s*(%|[a-z]+)?\.?", s)
    if not m:
        raise ResponseError(f"{text!r} is not a number")
    value = float(m.group(1))
    suffix = m.group(2)
    if suffix and suffix != "%":
        if suffix not in _MULTIPLIERS:
            raise ResponseError(f"{text!r} is not a number (unknown suffix {suffix!r})")
        value *= _MULTIPLIERS[suffix]
    return value


def _option_text(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().rstrip(".").strip().lower()


def parse_choices(text: str, instance: Instance, *, single: bool) -> list[int]:
    """Indices (in the student's order) of the options a response names: letters (``A``, ``a, c``,
    ``(B) and (D)``), or the text of the options themselves (as an LMS's responses report writes them;
    several joined by ``;`` or line breaks), whatever the case, spacing and final full stop."""
    s = str(text).strip()
    texts = {_option_text(c.text): i for i, c in enumerate(instance.choices)}
    if _option_text(s) in texts:                     # the text of one option
        return [texts[_option_text(s)]]
    named = [_option_text(p) for p in re.split(r";|\n", s) if p.strip()]
    if len(named) > 1 and all(p in texts for p in named):
        chosen = sorted({texts[p] for p in named})
        if single and len(chosen) > 1:
            raise ResponseError(f"{text!r} names more than one option for a single-choice question")
        return chosen
    parts = [p for p in re.split(r"[\s,;/+&]+|\band\b", s) if p]
    letters = []
    for p in parts:
        p = p.strip("().").upper()
        if len(p) != 1 or not "A" <= p <= chr(64 + len(instance.choices)):
            raise ResponseError(f"{text!r} does not name options A-{chr(64 + len(instance.choices))}")
        letters.append(ord(p) - 65)
    if not letters:
        raise ResponseError("no option chosen")
    if single and len(set(letters)) > 1:
        raise ResponseError(f"{text!r} names more than one option for a single-choice question")
    return sorted(set(letters))


def unreadable(instance: Instance, response: object) -> str | None:
    """Why ``response`` cannot be read for ``instance`` (a plain sentence naming no key), or None.

    Empty responses and open answers are always readable; a letter outside the
    options, several letters for a single choice, or a number that is not one
    are not. ``quiz take`` asks again instead of scoring such input.
    """
    q = instance.question
    text = "" if response is None else str(response).strip()
    if not text:
        return None
    try:
        if q.type in ("single", "multi"):
            parse_choices(text, instance, single=q.type == "single")
        elif q.type == "numeric":
            parse_number(text)
    except ResponseError as exc:
        return str(exc)
    return None


@dataclass(frozen=True)
class Feedback:
    """The outcome of one answer: points, verdict, and what to learn from it."""

    question_id: str
    """The question answered."""
    points: float
    """Points earned."""
    max_points: float
    """Points available."""
    response: str
    """The response as given."""
    verdict: str
    """One line: correct / partly correct / incorrect / not answered, with the key where it is short."""
    explanation: str
    """The question's explanation."""
    found: list[str] = field(default_factory=list)
    """Key points found (labels), for open answers."""
    missing: list[str] = field(default_factory=list)
    """Key points missing (labels), for open answers."""
    needs_review: bool = False
    """Whether an instructor should check this automatic score."""
    reasons: list[str] = field(default_factory=list)
    """Why the score is capped, zeroed or flagged."""
    model_answer: str = ""
    """A strong answer (open questions)."""
    answered: bool = True
    """False when the response was empty or missing."""
    counts: bool = True
    """False for an optional question: feedback only, not part of the score."""

    @property
    def fraction(self) -> float:
        return self.points / self.max_points if self.max_points else 0.0

    def as_text(self) -> str:
        """Plain-text feedback, as the terminal and the per-student files show it."""
        lines = [f"{self.verdict}  ({format_number(round(self.points, 2))}/{format_number(self.max_points)}"
                 + ("" if self.counts else ", optional: not counted") + ")"]
        lines += [f"  + {k}" for k in self.found]
        lines += [f"  - missing: {k}" for k in self.missing]
        lines += [f"  ! {r}" for r in self.reasons]
        if self.needs_review:
            lines.append("  (flagged for instructor review)")
        lines.append(f"Explanation: {self.explanation}")
        if self.model_answer:
            lines.append(f"A strong answer: {self.model_answer}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        color = "#1a7f37" if self.fraction >= 0.999 else "#9a6700" if self.points > 0 else "#cf222e"
        items = "".join(f"<li>&#10003; {html.escape(k)}</li>" for k in self.found)
        items += "".join(f"<li>&#10007; missing: {html.escape(k)}</li>" for k in self.missing)
        items += "".join(f"<li>&#9888; {html.escape(r)}</li>" for r in self.reasons)
        model = f"<p><b>A strong answer:</b> {html.escape(self.model_answer)}</p>" if self.model_answer else ""
        return (f"<div><p style='color:{color}'><b>{html.escape(self.verdict)}</b> "
                f"({format_number(round(self.points, 2))}/{format_number(self.max_points)})</p>"
                f"{'<ul>' + items + '</ul>' if items else ''}"
                f"<p><b>Explanation:</b> {html.escape(self.explanation)}</p>{model}</div>")


def key_text(instance: Instance) -> str:
    """The answer key of an instance, written for people."""
    q = instance.question
    if q.type in ("single", "multi"):
        return ", ".join(f"{letter}) {instance.choices[ord(letter) - 65].text}" for letter in instance.correct_letters)
    if q.type == "numeric":
        k = q.numeric
        tol = max(k.tolerance, abs(instance.key) * k.rel_tolerance)
        unit = f" {k.unit}" if k.unit else ""
        return format_number(instance.key) + unit + (f" (\u00b1 {format_number(tol)})" if tol else "")
    return q.model_answer


def score_response(instance: Instance, response: object, *, matcher: SemanticMatcher | None = None) -> Feedback:
    """Score ``response`` for ``instance`` by the rules in this module's docstring."""
    q = instance.question
    text = "" if response is None else str(response).strip()
    base = dict(question_id=q.id, max_points=q.points, response=text, explanation=instance.explanation,
                counts=not q.optional)
    if not text:
        return Feedback(points=0.0, verdict=f"Not answered. Key: {key_text(instance)}", answered=False,
                        model_answer=q.model_answer, **base)
    try:
        if q.type in ("single", "multi"):
            chosen = parse_choices(text, instance, single=q.type == "single")
            right = set(i for i, c in enumerate(instance.choices) if c.correct)
            hits, wrong = len(right & set(chosen)), len(set(chosen) - right)
            fraction = max(0.0, (hits - wrong) / len(right))
            notes = [instance.choices[i].feedback for i in chosen if instance.choices[i].feedback]
            return Feedback(points=q.points * fraction, verdict=_verdict(fraction, key_text(instance)),
                            reasons=notes, **base)
        if q.type == "numeric":
            value = parse_number(text)
            if text.rstrip(". ").endswith("%") and q.numeric.unit != "%":
                value /= 100          # "80%" for a question asking for a fraction
            ok = q.numeric.accepts(value, instance.key)
            return Feedback(points=q.points if ok else 0.0, verdict=_verdict(1.0 if ok else 0.0, key_text(instance)),
                            **base)
    except ResponseError as exc:      # 0 points, and an instructor looks: it may be a format the LMS wrote
        return Feedback(points=0.0, verdict=f"Incorrect: {exc}. Key: {key_text(instance)}",
                        reasons=[f"the answer could not be read: {exc}"], needs_review=True, **base)
    result = grade_text(q.rubric, text, prompt=instance.prompt, matcher=matcher)
    labels = {k.id: k.title for k in q.rubric.key_points}
    return Feedback(points=round(q.points * result.score, 4), verdict=_verdict(result.score, None),
                    found=[labels[k] for k in result.found], missing=[labels[k] for k in result.missing],
                    needs_review=result.needs_review, reasons=list(result.reasons), model_answer=q.model_answer,
                    **base)


def _verdict(fraction: float, key: str | None) -> str:
    word = "Correct" if fraction >= 0.999 else "Partly correct" if fraction > 0 else "Incorrect"
    if key is None:
        word = {"Correct": "All key points made", "Partly correct": "Some key points made",
                "Incorrect": "No key point made"}[word]
        return word
    return word if word == "Correct" else f"{word}. Key: {key}"
