"""Written answers graded by the rubric engine (:mod:`dlgrade.rubric`), shared with the quizzes."""
from __future__ import annotations


def grade_short_answer(sub, t, qid: str, *, points: float, prompt: str) -> None:
    """Score the answer to ``qid`` with ``autograder/<ex>/rubrics.yaml`` and flag it for review.

    Partial credit is the rubric's score times ``points``; the key points found
    and missing go into the feedback. Only answers the rubric is unsure about
    are flagged for an instructor: an empty (or untouched) answer scores 0 and
    one that makes every key point with no doubt raised (not too short, no
    misconception, not a keyword list) scores full, both without review.
    ``review: {qid: always}`` in exercise.yaml flags every non-empty answer. An answer longer than
    :data:`dlgrade.rubric.grade.MAX_ANSWER_CHARS` is graded on its start and flagged.
    """
    from dlgrade.rubric import grade_text, load_rubrics
    from dlgrade.rubric.grade import MAX_ANSWER_CHARS

    rubric = load_rubrics(t.ctx.exercise.rubrics_path)[qid]
    answer = sub.answer_text(qid)
    if len(answer) > MAX_ANSWER_CHARS:
        t.review(f"the answer is {len(answer):,} characters long: only the first {MAX_ANSWER_CHARS:,} were graded")
    result = grade_text(rubric, answer[:MAX_ANSWER_CHARS], prompt=prompt)
    t.check(result.score > 0, "the answer makes the rubric's points", points=round(points * result.score, 3),
            detail=f"found: {', '.join(result.found) or 'none'}; missing: {', '.join(result.missing) or 'none'}")
    always = getattr(getattr(t.ctx, "exercise", None), "review", {}).get(qid) == "always"
    empty = not sub.answer_text(qid).strip()
    sure = result.score >= 1 and not result.needs_review
    if not empty and (always or not sure or result.needs_review):
        t.review("the exercise asks for every answer to be read" if always and sure and not result.reasons
                 else "the rubric is unsure" + (f" ({'; '.join(result.reasons)})" if result.reasons else ""))
