"""``dlgrade quiz take``: one question at a time in the terminal, feedback after each, score at the end.

Input and output are streams, so tests (and other front ends) drive it with
``io.StringIO``. Single-line answers end with Enter; interview answers end with
an empty line. Input that cannot be read for the question (``two`` for a
number, ``E`` on options A-D) is refused with the reason and asked again; the
key is never shown for it. An empty line skips a question. End of input (or
Ctrl-C) leaves the remaining questions unanswered.

With ``save``, every answer is written to the responses file as it is given
(:mod:`dlgrade.quiz.attempts`): an unfinished attempt is resumed by the next
``take`` with the same file, and a finished one is kept when the student takes
the quiz again (the first finished attempt is the one that counts).
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from dlgrade.quiz.score import unreadable
from dlgrade.quiz.session import QuizSession, QuestionView, open_quiz
from dlgrade.quiz.spec import Quiz
from dlgrade.rubric.grade import SemanticMatcher

CHOICE_HINT = "answer with the letter(s) shown, e.g. B or A,C"
NUMBER_HINT = "answer with a number, e.g. 535818, 1.5e8, 150 million or 15.3%"


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


def _ask(view: QuestionView, stdin: TextIO, out: TextIO) -> str | None:
    """Ask until the input can be read (or is empty: skipped); None at end of input."""
    q = view.instance.question
    out.write("\n" + str(view) + "\n> ")
    out.flush()
    while True:
        response = _read_answer(stdin, multiline=q.type == "interview")
        if response is None:
            return None
        problem = unreadable(view.instance, response)
        if problem is None:
            return response
        hint = NUMBER_HINT if q.type == "numeric" else CHOICE_HINT
        out.write(f"  could not read that: {problem}; {hint} (Enter alone skips)\n> ")
        out.flush()


def take(quiz: str | Path | Quiz, *, student: str, bank: str | Path | None = None,
         stdin: TextIO | None = None, stdout: TextIO | None = None, save: str | Path | None = None,
         matcher: SemanticMatcher | None = None) -> QuizSession:
    """Run ``student``'s attempt interactively; returns the session (saved after every answer if asked)."""
    stdin = stdin if stdin is not None else sys.stdin
    out = stdout if stdout is not None else sys.stdout
    session = open_quiz(quiz, student, bank=bank, matcher=matcher)
    n = len(session.paper.instances)
    out.write(f"{session.quiz.title} \u2014 {n} questions, {session.max_points:g} points "
              f"(student {session.paper.student_id})\n")
    if save is not None:
        resumed = session.resume(save)
        if resumed is not None:
            out.write(f"resuming attempt {resumed.number}: {len(session.feedback)} of {n} questions "
                      "already answered\n")
    skipped = 0
    try:
        for view in session.views():
            if view.instance.id in session.feedback:
                continue
            response = _ask(view, stdin, out)
            if response is None:
                out.write("\n(end of input: the remaining questions are left unanswered"
                          + ("; take the quiz again with the same --save file to continue)\n" if save else ")\n"))
                break
            if not response:
                skipped += 1
                out.write("skipped\n")
                continue
            feedback = session.answer(view.instance.id, response)
            out.write(feedback.as_text() + "\n")
            if save is not None:
                session.save(save)
        else:
            session.finished = True
    except KeyboardInterrupt:
        out.write("\n(interrupted: the remaining questions are left unanswered)\n")
    out.write("\n" + session.summary() + (f" ({skipped} skipped)" if skipped else "") + "\n")
    if save is not None:
        path = session.save(save)
        out.write(f"attempt {session.attempt_number} saved to {path}\n")
    return session
