"""The feedback text of one graded question, as every platform shows it.

``dlgrade grade`` records :class:`~dlgrade.harness.questions.QuestionResult`
objects; the nbgrader test cells, the otter test cases and the Gradescope
runner all print them with :func:`question_text`, so a student reads the same
lines whichever platform graded the notebook.
"""
from __future__ import annotations

from dlgrade.harness.questions import QuestionResult


def points_text(value: float) -> str:
    """``4``, ``2.5``, ``0.333``: a number of points without trailing zeros."""
    return f"{round(float(value), 3):g}"


def question_text(result: QuestionResult) -> str:
    """``q1 (3/4): title`` then one line per check, and the error that stopped the question."""
    lines = [f"{result.id} ({points_text(result.earned)}/{points_text(result.points)}): {result.title}"]
    for check in result.checks:
        mark = "pass" if check.passed else "FAIL"
        detail = f" [{check.detail}]" if check.detail else ""
        lines.append(f"  {mark}  {check.message} ({points_text(check.points)} pt){detail}")
        if check.hint and not check.passed:
            lines.append(f"        hint: {check.hint}")
    if result.error:
        lines.append(f"  stopped: {result.error.get('message', '')}")
    if result.needs_review:
        lines.append("  (an instructor reviews this question)")
    return "\n".join(lines)
