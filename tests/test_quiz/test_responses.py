"""Reading a class's responses: CSV/JSON, and clear errors (dlgrade.quiz.responses)."""
from __future__ import annotations

import json

import pytest

from dlgrade.quiz.bank import load_quiz
from dlgrade.quiz.responses import ResponsesError, read_responses


def test_csv_and_json_give_the_same_rows(tiny_quiz, tmp_path):
    """Do a CSV, a flat JSON list and an 'answers' JSON list read identically (lists become A,C)?"""
    quiz = load_quiz(tiny_quiz)
    (tmp_path / "r.csv").write_text('student_id,q-single,q-multi\ns1,B,"A,C"\n')
    (tmp_path / "r.json").write_text(json.dumps([{"student_id": "s1", "q-single": "B", "q-multi": ["A", "C"]}]))
    (tmp_path / "r2.json").write_text(json.dumps([{"student_id": "s1", "answers": {"q-single": "B",
                                                                                    "q-multi": "A,C"}}]))
    rows = [read_responses(tmp_path / n, quiz) for n in ("r.csv", "r.json", "r2.json")]
    assert {r[0].student_id for r in rows} == {"s1"}
    assert rows[0][0].answers == rows[1][0].answers == rows[2][0].answers == {"q-single": "B", "q-multi": "A,C"}


@pytest.mark.parametrize("content,suffix,message", [
    ("student_id,q-single,q-bogus\ns1,B,x\n", ".csv", "unknown question id 'q-bogus'"),
    ("student_id,q-single\ns1,B\ns1,C\n", ".csv", "already has a row"),
    ("student_id,q-single\n,B\n", ".csv", "empty student_id"),
    ("name,q-single\nann,B\n", ".csv", "line 1: the header has no student_id column"),
    ("student_id,q-single\ns1,B,extra\n", ".csv", "line 2 has 3 fields"),
    ("student_id,q-single,q-single\ns1,B,C\n", ".csv", "appears twice"),
    ("", ".csv", "empty file"),
    ("{not json", ".json", "not valid JSON"),
    ('{"student_id": "s1"}', ".json", "JSON list"),
    ('[{"student_id": "s1", "quiz": "other", "q-single": "B"}]', ".json", "not 'tiny'"),
    ("student_id\n", ".csv", "no student rows"),
    ("x", ".txt", "unknown responses format"),
])
def test_malformed_files_are_reported_not_dropped(tiny_quiz, tmp_path, content, suffix, message):
    """Does each kind of malformed responses file raise a clear one-line error?"""
    path = tmp_path / f"r{suffix}"
    path.write_text(content)
    with pytest.raises(ResponsesError, match=message):
        read_responses(path, load_quiz(tiny_quiz))


@pytest.mark.parametrize("column", ["Student_ID", " student id ", "STUDENT-ID"])
def test_the_student_id_column_is_found_whatever_its_case_and_spacing(tiny_quiz, tmp_path, column):
    """Spreadsheets and LMS exports write the header their own way: is ``Student_ID`` read as ``student_id``?"""
    path = tmp_path / "r.csv"
    path.write_text(f"{column},q-single\ns1,B\n")
    (row,) = read_responses(path, load_quiz(tiny_quiz))
    assert (row.student_id, row.answers) == ("s1", {"q-single": "B"})


def test_metadata_columns_can_be_ignored_explicitly(tiny_quiz, tmp_path):
    """Is a listed metadata column skipped while unlisted unknown columns still fail?"""
    path = tmp_path / "r.csv"
    path.write_text("student_id,email,q-single\ns1,a@b.c,B\n")
    with pytest.raises(ResponsesError, match="email"):
        read_responses(path, load_quiz(tiny_quiz))
    assert read_responses(path, load_quiz(tiny_quiz), ignore_columns=["email"])[0].answers == {"q-single": "B"}
