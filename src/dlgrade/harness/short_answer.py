"""Written answers graded by the rubric engine shared with the quizzes."""
from __future__ import annotations


def grade_short_answer(sub, t, qid: str, *, points: float, prompt: str) -> None:
    """Score the answer to ``qid`` with ``autograder/<ex>/rubrics.yaml`` and flag it for review.

    Partial credit is the rubric's score times ``points``; the key points found
    and missing go into the feedback. An instructor always reads written answers.
    """
    from dlgrade.quiz.rubric import grade_text, load_rubrics

    rubric = load_rubrics(t.ctx.exercise.rubrics_path)[qid]
    result = grade_text(rubric, sub.answer_text(qid), prompt=prompt)
    t.check(result.score > 0, "the answer makes the rubric's points", points=round(points * result.score, 3),
            detail=f"found: {', '.join(result.found) or 'none'}; missing: {', '.join(result.missing) or 'none'}")
    t.review("short answers are read by an instructor"
             + (f" ({'; '.join(result.reasons)})" if result.reasons else ""))
