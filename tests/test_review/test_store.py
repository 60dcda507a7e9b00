"""reviews.jsonl: scores, the latest review wins, torn lines, and applying reviews to a result."""
from __future__ import annotations

import pytest

from dlgrade.errors import DlgradeError
from dlgrade.review.store import Review, append_reviews, apply_reviews, fingerprint, parse_score, read_reviews


def test_scores_are_full_none_or_a_number_within_the_points():
    """Are 'full', 'none' and numbers in range accepted, and anything else refused with the place named?"""
    assert [parse_score(v, 3, "x") for v in ("full", "none", "1.25", " 0 ")] == [3.0, 0.0, 1.25, 0.0]
    for bad in ("4", "-1", "half", ""):
        with pytest.raises(DlgradeError, match="^x: score"):
            parse_score(bad, 3, "x")
    for missing in (None, True):       # JSON null (or a boolean) from the review page's API: never 0
        with pytest.raises(DlgradeError, match="^x: no score given"):
            parse_score(missing, 3, "x")


def test_latest_review_wins_and_a_torn_line_is_skipped(tmp_path):
    """With two reviews of one item and a torn last line, is the later review the one read?"""
    append_reviews(tmp_path, [Review("s1", "q1", 1.0, "first")])
    append_reviews(tmp_path, [Review("s1", "q1", 2.0, "second"), Review("s2", "q1", 0.0)])
    with (tmp_path / "reviews.jsonl").open("ab") as fh:
        fh.write(b'{"student_id": "s1", "question": "q1", "sco')
    reviews = read_reviews(tmp_path)
    assert {k: (r.score, r.comment) for k, r in reviews.items()} == {("s1", "q1"): (2.0, "second"),
                                                                      ("s2", "q1"): (0.0, "")}
    append_reviews(tmp_path, [Review("s3", "q1", 1.0)])
    assert len(read_reviews(tmp_path)) == 3


def test_applying_a_review_replaces_points_and_marks_a_changed_automatic_result():
    """Does a review replace the question's points and the total, keep unreviewed flags, and mark the
    review when the automatic result differs from the one reviewed?"""
    q1 = {"id": "q1", "points": 2.0, "earned": 0.5, "checks": [], "error": None, "needs_review": True}
    q2 = {"id": "q2", "points": 3.0, "earned": 1.0, "checks": [], "error": None, "needs_review": True}
    record = {"student_id": "s", "score": 1.5, "max_points": 5.0, "percent": 30.0, "needs_review": ["q1", "q2"],
              "questions": [q1, q2], "answers": {"q1": "text"}}
    seen = fingerprint(q1, "text")
    out = apply_reviews(record, {("s", "q1"): Review("s", "q1", 2.0, "ok", auto=seen)})
    assert (out["score"], out["percent"], out["needs_review"]) == (3.0, 60.0, ["q2"])
    assert out["questions"][0]["review"]["changed"] is False and record["score"] == 1.5
    stale = apply_reviews(record, {("s", "q1"): Review("s", "q1", 2.0, auto="something else")})
    assert stale["questions"][0]["review"]["changed"] is True and stale["needs_review"] == ["q1", "q2"]
