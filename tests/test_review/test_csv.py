"""Reviews through a spreadsheet: export the items, import the filled-in rows, reject the bad ones."""
from __future__ import annotations

import csv
import io


def test_export_then_import_records_valid_rows_and_reports_each_rejected_one(graded, tmp_path):
    """Does an exported CSV, filled in and imported, record the valid reviews (gradebook uses them) and name
    every rejected row with its reason, writing none of those?"""
    from dlgrade.review import export_reviews, import_reviews

    course, out, _, _ = graded
    sheet = tmp_path / "reviews.csv"
    assert export_reviews("tiny", sheet, out=out, course=course) == 2
    rows = list(csv.DictReader(io.StringIO(sheet.read_text())))
    assert [(r["student_id"], r["question"], r["auto_score"], r["answer"]) for r in rows] == \
        [("ann", "q3", "1", "Overfitting."), ("bob", "q3", "1", "It shows overfitting.")]
    rows[0].update(score="1.5", comment="=good start")
    rows[1].update(score="none")
    extra = [dict(rows[0], student_id="zed"), dict(rows[1], score="9"), dict(rows[1], question="q9", score="1")]
    with sheet.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows + extra)
    result = import_reviews("tiny", sheet, out=out, course=course, reviewer="staff")
    assert [(r.student_id, r.score, r.comment, r.reviewer) for r in result.added] == \
        [("ann", 1.5, "=good start", "staff")]
    twice = "student 'bob', question 'q3' is scored in rows 3, 5: none of them is imported"
    assert result.rejected == [f"row 3: {twice}", "row 4: no graded question 'q3' for student 'zed' (a student with several files is "
                               "reviewed once only one is left)",
                               f"row 5: {twice}", "row 6: no graded question 'q9' for student 'bob' (a student with several files is "
                               "reviewed once only one is left)"]
    book = {r["student_id"]: r for r in csv.DictReader(io.StringIO((out / "tiny" / "gradebook.csv").read_text()))}
    assert (book["ann"]["q3"], book["bob"]["q3"]) == ("1.5", "1")
    with sheet.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    result = import_reviews("tiny", sheet, out=out, course=course, reviewer="staff")
    assert [(r.student_id, r.score) for r in result.added] == [("bob", 0.0)] and result.unchanged == 1
    book = {r["student_id"]: r for r in csv.DictReader(io.StringIO((out / "tiny" / "gradebook.csv").read_text()))}
    assert (book["bob"]["q3"], book["bob"]["score"]) == ("0", "5")
    again = import_reviews("tiny", sheet, out=out, course=course)
    assert (len(again.added), again.unchanged) == (0, 2)


def test_import_without_the_required_columns_is_one_clear_error(graded, tmp_path):
    """Does a CSV without a score column stop with an error naming the file and the column?"""
    import pytest

    from dlgrade.errors import DlgradeError
    from dlgrade.review import import_reviews

    course, out, _, _ = graded
    sheet = tmp_path / "bad.csv"
    sheet.write_text("student_id,question\nann,q3\n")
    with pytest.raises(DlgradeError, match="bad.csv: missing column"):
        import_reviews("tiny", sheet, out=out, course=course)


def test_a_regrade_request_overrides_a_question_the_grader_did_not_flag(graded, tmp_path):
    """A student asks for q1 to be looked at again: can a row with student_id, question and score set the
    points of a question that was never flagged, with the gradebook using them, while the export still lists
    only the flagged items?"""
    from dlgrade.review import export_reviews, import_reviews

    course, out, _, _ = graded
    book = {r["student_id"]: r for r in csv.DictReader(io.StringIO((out / "tiny" / "gradebook.csv").read_text()))}
    assert book["cy"]["q1"] == "2" and book["cy"]["needs_review"] == ""
    before = float(book["cy"]["score"])
    sheet = tmp_path / "regrade.csv"
    sheet.write_text("student_id,question,score,comment\ncy,q1,1,the second case is wrong\n")
    result = import_reviews("tiny", sheet, out=out, course=course, reviewer="lee")
    assert [(r.student_id, r.question, r.score, r.comment) for r in result.added] == [
        ("cy", "q1", 1.0, "the second case is wrong")] and result.rejected == []
    book = {r["student_id"]: r for r in csv.DictReader(io.StringIO((out / "tiny" / "gradebook.csv").read_text()))}
    assert book["cy"]["q1"] == "1" and float(book["cy"]["score"]) == before - 1
    assert export_reviews("tiny", tmp_path / "items.csv", out=out, course=course) == 3   # 2 flagged + cy's review
