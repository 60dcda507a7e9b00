"""A student's attempt at a quiz, usable from a notebook cell or driven by the terminal.

In a notebook::

    from dlgrade.quiz import open_quiz
    quiz = open_quiz("concepts", student="s1234567")
    quiz                          # the questions, as HTML
    quiz.ask()                    # the next unanswered question
    quiz.answer("xor-perceptron", "B")   # -> Feedback, shown as HTML
    quiz.score, quiz.max_points
    quiz.save("my-answers.json")  # a responses file ``dlgrade quiz grade`` reads
"""
from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path

from dlgrade.quiz import outputs
from dlgrade.quiz.bank import resolve_quiz
from dlgrade.quiz.rubric import SemanticMatcher
from dlgrade.quiz.score import Feedback, score_response
from dlgrade.quiz.spec import Quiz
from dlgrade.quiz.variant import Instance, Paper, format_number, make_paper

HOW_TO_ANSWER = {
    "single": "choose one letter",
    "multi": "choose all that apply, e.g. A,C",
    "numeric": "a number",
    "short": "a sentence or two",
    "interview": "several sentences; end with an empty line",
}


@dataclass(frozen=True)
class QuestionView:
    """One question as shown to the student (text and HTML)."""

    number: int
    """Position in the student's paper, from 1."""
    instance: Instance
    """The question with this student's values and choice order."""

    def __str__(self) -> str:
        q = self.instance.question
        follow = " (follow-up)" if q.parent else ""
        unit = f" [{q.numeric.unit}]" if q.numeric is not None and q.numeric.unit else ""
        lines = [f"Q{self.number}{follow} [{q.id}, {format_number(q.points)} pt]: {self.instance.prompt}{unit}"]
        lines += [f"  {chr(65 + i)}) {c.text}" for i, c in enumerate(self.instance.choices)]
        lines.append(f"  ({HOW_TO_ANSWER[q.type]})")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        q = self.instance.question
        choices = "".join(f"<li><b>{chr(65 + i)})</b> {html.escape(c.text)}</li>"
                          for i, c in enumerate(self.instance.choices))
        return (f"<div><p><b>Q{self.number}</b> <code>{html.escape(q.id)}</code> "
                f"({format_number(q.points)} pt): {html.escape(self.instance.prompt)}</p>"
                f"{'<ul style=list-style:none>' + choices + '</ul>' if choices else ''}"
                f"<p><i>{HOW_TO_ANSWER[q.type]}: <code>quiz.answer({q.id!r}, ...)</code></i></p></div>")


class QuizSession:
    """A student's paper plus the feedback earned so far (one per question id; answering again replaces it)."""

    def __init__(self, paper: Paper, *, matcher: SemanticMatcher | None = None):
        self.paper = paper
        self.matcher = matcher
        self.feedback: dict[str, Feedback] = {}
        self._responses: dict[str, str] = {}

    @property
    def quiz(self) -> Quiz:
        return self.paper.quiz

    def views(self) -> list[QuestionView]:
        return [QuestionView(n, i) for n, i in enumerate(self.paper.instances, 1)]

    def ask(self, which: str | int | None = None) -> QuestionView | None:
        """A question by id or number (from 1); by default the next unanswered one (None when done)."""
        views = self.views()
        if which is None:
            return next((v for v in views if v.instance.id not in self.feedback), None)
        for v in views:
            if v.instance.id == which or v.number == which:
                return v
        raise KeyError(f"no question {which!r} in this paper; ids: {', '.join(v.instance.id for v in views)}")

    def answer(self, qid: str, response: object) -> Feedback:
        """Score ``response`` to question ``qid`` and keep the feedback."""
        instance = self.paper.instance(qid) if qid in {i.id for i in self.paper.instances} else None
        if instance is None:
            raise KeyError(f"no question {qid!r} in this paper; ids: "
                           + ", ".join(i.id for i in self.paper.instances))
        fb = score_response(instance, response, matcher=self.matcher)
        self.feedback[qid] = fb
        self._responses[qid] = fb.response
        return fb

    @property
    def score(self) -> float:
        return round(sum(f.points for f in self.feedback.values()), 4)

    @property
    def max_points(self) -> float:
        return self.paper.max_points

    def summary(self) -> str:
        done = len(self.feedback)
        return (f"{self.quiz.title}: {format_number(self.score)}/{format_number(self.max_points)} points "
                f"({done}/{len(self.paper.instances)} answered)")

    def responses_row(self) -> dict:
        """This attempt as one row of a responses file (see :mod:`dlgrade.quiz.responses`)."""
        return {"student_id": self.paper.student_id,
                "answers": {i.id: self._responses.get(i.id, "") for i in self.paper.instances}}

    def save(self, path: str | Path) -> Path:
        """Add (or replace) this student's row in a JSON responses file, atomically."""
        path = Path(path)
        rows = []
        if path.exists():
            try:
                rows = json.loads(path.read_text(encoding="utf-8"))
            except json.JSONDecodeError:
                rows = None
            if not isinstance(rows, list):
                from dlgrade.errors import DlgradeError
                raise DlgradeError(f"{path}: exists and is not a JSON list of responses; not overwriting it")
        rows = [r for r in rows if not (isinstance(r, dict) and r.get("student_id") == self.paper.student_id)]
        rows.append(self.responses_row())
        rows.sort(key=lambda r: str(r.get("student_id", "")))
        return outputs.write_text(path, json.dumps(rows, indent=2, ensure_ascii=False) + "\n")

    def _repr_html_(self) -> str:
        body = "".join(v._repr_html_() for v in self.views())
        return (f"<div><h3>{html.escape(self.quiz.title)}</h3><p>Student <code>"
                f"{html.escape(self.paper.student_id)}</code> &middot; {html.escape(self.summary())}</p>{body}</div>")

    def __repr__(self) -> str:
        return f"<QuizSession {self.quiz.id} student={self.paper.student_id!r}: {self.summary()}>"


def open_quiz(quiz: str | Path | Quiz, student: str, *, bank: str | Path | None = None,
              matcher: SemanticMatcher | None = None) -> QuizSession:
    """Start ``student``'s attempt at ``quiz`` (an id in the bank, a YAML path, or a Quiz)."""
    return QuizSession(make_paper(resolve_quiz(quiz, bank), student), matcher=matcher)
