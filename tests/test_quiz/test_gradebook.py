"""Grading a class (dlgrade.quiz.gradebook): gradebook CSV, review list, per-student feedback."""
from __future__ import annotations

import csv
import json

import pytest

from dlgrade.quiz import grade, open_quiz
from dlgrade.quiz.responses import ResponsesError


def _row(tiny_quiz, sid, *, right=True, open_answer=None):
    s = open_quiz(tiny_quiz, sid)
    answers = {}
    for i in s.paper.instances:
        q = i.question
        if q.type in ("single", "multi"):
            letters = i.correct_letters if right else [chr(65 + k) for k, c in enumerate(i.choices) if not c.correct]
            answers[i.id] = ",".join(letters)
        elif q.type == "numeric":
            answers[i.id] = str(i.key if right else i.key + 1)
        else:
            answers[i.id] = open_answer if open_answer is not None else q.model_answer
    return {"student_id": sid, "answers": answers}


def test_gradebook_is_sorted_fixed_and_reproducible(tiny_quiz, tmp_path):
    """Are rows sorted by student, columns fixed, totals right, and a regrade byte-identical?"""
    rows = [_row(tiny_quiz, "zoe"), _row(tiny_quiz, "adam", right=False, open_answer="")]
    (tmp_path / "r.json").write_text(json.dumps(rows))
    report = grade(tiny_quiz, tmp_path / "r.json", out=tmp_path / "out")
    first = report.gradebook.read_bytes()
    table = list(csv.DictReader(report.gradebook.open()))
    assert [r["student_id"] for r in table] == ["adam", "zoe"]
    assert list(table[0])[:7] == ["student_id", "score", "max_points", "percent", "answered", "missing",
                                  "needs_review"]
    assert table[1]["score"] == "11" and table[1]["percent"] == "100.0"
    assert table[0]["score"] == "0" and table[0]["missing"] == "2"
    grade(tiny_quiz, tmp_path / "r.json", out=tmp_path / "out")
    assert report.gradebook.read_bytes() == first


def test_regrade_uses_each_students_own_choice_order(tiny_quiz, tmp_path):
    """Are letters interpreted in the order that student saw (seeded), not bank order?"""
    rows = [_row(tiny_quiz, f"s{i}") for i in range(8)]
    (tmp_path / "r.json").write_text(json.dumps(rows))
    report = grade(tiny_quiz, tmp_path / "r.json", out=tmp_path / "o")
    assert all(s.score == 11 for s in report.students)
    assert len({r["answers"]["q-single"] for r in rows}) > 1   # different letters, all correct


def test_feedback_lists_key_points_and_review_flags_are_collected(tiny_quiz, tmp_path):
    """Does each student's file list found/missing key points, and review.csv hold flagged answers?"""
    stuffed = "cats purr, dogs bark, purring, barking, pets, animals, fur, tails, whiskers, paws"
    rows = [_row(tiny_quiz, "kw", open_answer=stuffed), _row(tiny_quiz, "ok")]
    (tmp_path / "r.json").write_text(json.dumps(rows))
    report = grade(tiny_quiz, tmp_path / "r.json", out=tmp_path / "o")
    text = (report.feedback_dir / "ok.md").read_text()
    assert "+ purr" in text and "Explanation:" in text
    review = list(csv.DictReader(report.review.open()))
    assert {(r["student_id"], r["question_id"]) for r in review} == {("kw", "q-open"), ("kw", "q-open.f1")}
    assert "keyword list" in review[0]["reasons"]


def test_unknown_question_column_stops_grading_with_a_clear_error(tiny_quiz, tmp_path):
    """Is a responses column that is not a question an error (nothing written, nothing dropped)?"""
    (tmp_path / "r.csv").write_text("student_id,q-single,q-typo\ns1,B,x\n")
    with pytest.raises(ResponsesError, match="q-typo"):
        grade(tiny_quiz, tmp_path / "r.csv", out=tmp_path / "o")
    assert not (tmp_path / "o").exists()
