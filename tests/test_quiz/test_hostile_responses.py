"""Hostile responses files: every row graded or reported by its line, encodings detected or refused clearly."""
from __future__ import annotations

import csv
import logging

import pytest

from dlgrade.quiz import grade
from dlgrade.quiz.bank import load_quiz
from dlgrade.quiz.responses import MAX_ANSWER_CHARS, ResponsesError, read_responses

HEADER = "student_id,q-single,q-open\n"


def test_unbalanced_quote_is_reported_with_its_line(tiny_quiz, tmp_path):
    """Does a quote that is never closed stop with the line it opens on, instead of merging the next students
    into one answer?"""
    path = tmp_path / "r.csv"
    path.write_text(HEADER + 's1,B,Cats purr\ns2,B,"Dogs bark\ns3,A,x\ns4,C,y\n')
    with pytest.raises(ResponsesError, match=r"line 3: a quote opened on this row is never closed"):
        read_responses(path, load_quiz(tiny_quiz))


def test_quoted_answer_holding_other_rows_is_reported(tiny_quiz, tmp_path):
    """When a stray quote pairs with a later one, is the row that swallowed other students' rows named?"""
    path = tmp_path / "r.csv"
    path.write_text(HEADER + 's1,B,"Cats purr\ns2,B,Dogs\ns3,A,x"\ns4,C,"fine, with a comma"\n')
    with pytest.raises(ResponsesError, match=r"line 2: a quoted answer runs on to line 4 .*\(s2, s3\)"):
        read_responses(path, load_quiz(tiny_quiz))


def test_multi_line_answers_are_still_read(tiny_quiz, tmp_path):
    """Is a legitimate quoted answer over several lines (with commas) read as one answer, every row kept?"""
    path = tmp_path / "r.csv"
    path.write_text(HEADER + 's1,B,"Cats purr, mostly.\nDogs bark, loudly."\ns2,A,\n')
    rows = read_responses(path, load_quiz(tiny_quiz))
    assert [r.student_id for r in rows] == ["s1", "s2"]
    assert rows[0].answers["q-open"] == "Cats purr, mostly.\nDogs bark, loudly."
    assert rows[0].where.endswith("line 2") and rows[1].where.endswith("line 4")


def test_short_rows_are_errors(tiny_quiz, tmp_path):
    """Is a row with fewer fields than the header an error naming its line (the docs say so), not padded?"""
    path = tmp_path / "r.csv"
    path.write_text(HEADER + "s1,B,x\ns2,B\n")
    with pytest.raises(ResponsesError, match="line 3 has 2 fields but the header has 3"):
        read_responses(path, load_quiz(tiny_quiz))


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-8-sig"])
def test_utf16_and_bom_files_are_read(tiny_quiz, tmp_path, encoding):
    """Are UTF-16 files (with or without a byte-order mark) and UTF-8 with a mark read like plain UTF-8?"""
    path = tmp_path / "r.csv"
    path.write_bytes((HEADER + "s1,B,Café au lait\n").encode(encoding))
    rows = read_responses(path, load_quiz(tiny_quiz))
    assert rows[0].answers == {"q-single": "B", "q-open": "Café au lait"}


def test_excel_unicode_text_is_tab_separated(tiny_quiz, tmp_path):
    """Is Excel's 'Unicode text' (UTF-16, tab-separated) read?"""
    path = tmp_path / "r.csv"
    path.write_bytes("student_id\tq-single\tq-open\ns1\tB\tyes, really\n".encode("utf-16"))
    assert read_responses(path, load_quiz(tiny_quiz))[0].answers["q-open"] == "yes, really"


def test_latin1_is_refused_with_the_line(tiny_quiz, tmp_path):
    """Is a Latin-1 file refused with the line of the first odd byte and how to save it as UTF-8?"""
    path = tmp_path / "r.csv"
    path.write_bytes((HEADER + "s1,B,ok\ns2,B,Caf\xe9\n").encode("latin-1"))
    with pytest.raises(ResponsesError, match="not UTF-8 text \\(byte 0xe9 on line 3\\)") as info:
        read_responses(path, load_quiz(tiny_quiz))
    assert "UTF-8" in info.value.hint


def test_a_huge_answer_is_cut_with_a_warning(tiny_quiz, tmp_path, caplog):
    """Is a 1 MB answer read (past csv's field limit), cut at the cap with a warning, and the others kept?"""
    path = tmp_path / "r.csv"
    path.write_text(HEADER + f's1,B,"{"cats purr " * 100_000}"\ns2,A,dogs\n')
    with caplog.at_level(logging.WARNING):
        rows = read_responses(path, load_quiz(tiny_quiz))
    assert [r.student_id for r in rows] == ["s1", "s2"]
    assert len(rows[0].answers["q-open"]) == MAX_ANSWER_CHARS
    assert "only the first" in rows[0].notes[0] and "only the first" in caplog.text
    assert csv.field_size_limit() == 131072  # the module-wide limit is restored


def test_formula_like_ids_and_answers_are_neutralised(tiny_quiz, tmp_path):
    """In the quiz gradebook and review list, are ids and answers starting with =, +, -, @ written as text,
    and do ids that differ only in odd characters get their own feedback files?"""
    path = tmp_path / "r.csv"
    path.write_text(HEADER + 's1,B,"=HYPERLINK(""http://x"")"\n=cmd,B,x\n+1,A,x\n@sum,A,x\n_cmd,A,x\n')
    report = grade(tiny_quiz, path, out=tmp_path / "out")
    book = list(csv.reader(report.gradebook.open()))
    assert sorted(r[0] for r in book[1:]) == ["'+1", "'=cmd", "'@sum", "_cmd", "s1"]
    review = list(csv.reader(report.review.open()))
    assert all(not cell.startswith(("=", "+", "@")) for row in review for cell in row)
    assert len(list((tmp_path / "out" / "feedback").glob("*.md"))) == 5
