"""A student's attempt at a quiz, usable from a notebook cell or driven by the terminal.

In a notebook::

    from dlgrade.quiz import open_quiz
    quiz = open_quiz("concepts", student="s1234567")
    quiz                          # the questions, as HTML
    quiz.ask()                    # the next unanswered question
    quiz.answer("xor-perceptron", "B")   # -> Feedback, shown as HTML
    quiz.score, quiz.max_points
    quiz.save("my-answers.json")  # a responses file ``dlgrade quiz grade`` reads

Saving keeps every attempt (see :mod:`dlgrade.quiz.attempts`): a session adds
its own attempt to the file and updates it on later saves; an unfinished
attempt left in the file is continued by :meth:`QuizSession.resume`.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

from dlgrade.quiz.attempts import Attempt, AttemptsFile
from dlgrade.quiz.bank import resolve_quiz
from dlgrade.rubric.grade import SemanticMatcher
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
        follow = (" (optional follow-up, not counted)" if q.optional else " (follow-up)") if q.parent else ""
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
        self.finished = False
        """True once the student has been through every question (``take`` sets it; so does answering all)."""
        self.attempt_number: int | None = None
        """Which attempt in the saved file this session is (None until saved or resumed)."""

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
        if len(self.feedback) == len(self.paper.instances):
            self.finished = True
        return fb

    def choice_order(self) -> dict[str, list[int]]:
        """Question id -> bank indices of the options in the order this student sees them (A first)."""
        out = {}
        for inst in self.paper.instances:
            if inst.choices:
                bank = inst.question.choices
                out[inst.id] = [next(j for j, b in enumerate(bank) if b is c) for c in inst.choices]
        return out

    def key_letters(self) -> dict[str, str]:
        """Question id -> the right letters in this student's order."""
        return {inst.id: ",".join(inst.correct_letters) for inst in self.paper.instances if inst.choices}

    @property
    def score(self) -> float:
        return round(sum(f.points for f in self.feedback.values() if f.counts), 4)

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

    def resume(self, path: str | Path) -> Attempt | None:
        """Continue this student's unfinished attempt saved in ``path``: its answers are scored again.

        Returns the attempt resumed, or None when there is none (the next save starts a new attempt).
        """
        path = Path(path)
        if not path.exists():
            return None
        attempt = AttemptsFile(path).unfinished(self.paper.student_id, self.quiz.id)
        if attempt is None:
            return None
        ids = {i.id for i in self.paper.instances}
        for qid, response in attempt.answers.items():
            if qid in ids and response.strip():
                self.answer(qid, response)
        self.finished = False
        self.attempt_number = attempt.number
        return attempt

    def save(self, path: str | Path) -> Path:
        """Write this attempt into the responses file ``path`` (atomically), keeping every other attempt.

        The first save of a session adds a new attempt (or continues the student's unfinished
        one); later saves update it.
        """
        f = AttemptsFile(path)
        sid, qid = self.paper.student_id, self.quiz.id
        mine = f.of(sid, qid)
        attempt = next((a for a in mine if a.number == self.attempt_number), None)
        if attempt is None:
            attempt = f.unfinished(sid, qid) or f.new_attempt(sid, qid)
            self.attempt_number = attempt.number
        attempt.quiz = qid
        attempt.answers = {**{k: v for k, v in attempt.answers.items() if v.strip()},
                           **{i.id: self._responses[i.id] for i in self.paper.instances if i.id in self._responses}}
        attempt.answers = {i.id: attempt.answers.get(i.id, "") for i in self.paper.instances}
        attempt.finished = attempt.finished or self.finished
        # only for answered questions: their feedback showed the key already, so the file leaks nothing new
        answered = {k for k, v in attempt.answers.items() if v.strip()}
        attempt.choice_order = {k: v for k, v in self.choice_order().items() if k in answered}
        attempt.key = {k: v for k, v in self.key_letters().items() if k in answered}
        return f.write()

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
