"""``dlgrade quiz take``: one question at a time in the terminal, feedback after each, score at the end.

Input and output are streams, so tests (and other front ends) drive it with
``io.StringIO``. Single-line answers end with Enter; interview answers end with
an empty line. End of input leaves the remaining questions unanswered.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from dlgrade.quiz.rubric import SemanticMatcher
from dlgrade.quiz.session import QuizSession, open_quiz
from dlgrade.quiz.spec import Quiz


def _read_answer(stdin: TextIO, multiline: bool) -> str | None:
    """One answer from ``stdin``; None at end of input."""
    first = stdin.readline()
    if first == "":
        return None
    if not multiline:
        return first.strip()
    lines = [first.rstrip("\n")]
    if not lines[0].strip():
        return ""
    while True:
        line = stdin.readline()
        if line == "" or not line.strip():
            break
        lines.append(line.rstrip("\n"))
    return "\n".join(lines).strip()


def take(quiz: str | Path | Quiz, *, student: str, bank: str | Path | None = None,
         stdin: TextIO | None = None, stdout: TextIO | None = None, save: str | Path | None = None,
         matcher: SemanticMatcher | None = None) -> QuizSession:
    """Run ``student``'s attempt interactively; returns the finished session (and saves it if asked)."""
    stdin = stdin if stdin is not None else sys.stdin
    out = stdout if stdout is not None else sys.stdout
    session = open_quiz(quiz, student, bank=bank, matcher=matcher)
    n = len(session.paper.instances)
    out.write(f"{session.quiz.title} \u2014 {n} questions, {session.max_points:g} points "
              f"(student {session.paper.student_id})\n")
    for view in session.views():
        out.write("\n" + str(view) + "\n> ")
        out.flush()
        response = _read_answer(stdin, multiline=view.instance.question.type == "interview")
        if response is None:
            out.write("\n(end of input: the remaining questions are left unanswered)\n")
            break
        feedback = session.answer(view.instance.id, response)
        out.write(feedback.as_text() + "\n")
    out.write("\n" + session.summary() + "\n")
    if save is not None:
        path = session.save(save)
        out.write(f"responses saved to {path}\n")
    return session
