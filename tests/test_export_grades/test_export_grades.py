"""Grade files an LMS imports: each file is parsed by the rules of the target's importer.

The rules are those of Canvas's gradebook importer (``GradebookImporter``:
header ``Student, ID, [SIS User ID,] SIS Login ID, Section``, assignment
columns ``Title (id)``, a row whose first cell has ``Points Possible``,
students matched by ID then SIS ids, numeric grades) and of Moodle's CSV
grade import (one identity column mapped to idnumber / username / email /
id, grade cells numeric or ``-`` / blank, a feedback column).
"""
from __future__ import annotations

import csv
import io
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "test_grade"))

from builders import copy_course, grader, template_of, write_submission  # noqa: E402

from dlgrade.errors import DlgradeError  # noqa: E402
from dlgrade.export_grades import main as export  # noqa: E402

ROSTER = ("Student,ID,SIS User ID,SIS Login ID,Section\n"
          "    Points Possible,,,,\n"
          '"Doe, Ann",101,S-0101,ann@uni.edu,Lab A\n'
          '"Roe, Bob",102,S-0102,bob@uni.edu,Lab B\n'
          '"Student, Test",999,,,\n')


@pytest.fixture(scope="module")
def canvas_class(tmp_path_factory):
    """Two students graded from Canvas-named files (user ids 101 and 102): (course, out)."""
    base = tmp_path_factory.mktemp("canvas")
    course = copy_course(base / "course")
    subs = base / "subs"
    write_submission(template_of(course), subs / "doeann_101_9001_tiny.ipynb", answer="")
    write_submission(template_of(course), subs / "roebob_102_9002_tiny.ipynb", answer="",
                     predict="def predict(X):\n    return (X[:, 0] > 0).astype(int)")
    grader(course, base / "out")([subs])
    (base / "roster.csv").write_text(ROSTER)
    return course, base / "out", base / "roster.csv"


def canvas_import(path: Path) -> dict:
    """Parse like Canvas's gradebook importer: {"assignments": [(title, id)], "points": [...], "students": [...]}."""
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    header = rows[0]
    assert len(header) > 3 and re.search("Student", header[0]) and re.search("ID", header[1]), "invalid header row"
    if re.search(r"SIS\s+Login\s+ID", header[2]):
        info = 4
    else:
        assert re.search(r"SIS\s+User\s+ID", header[2]) and re.search(r"SIS\s+Login\s+ID", header[3])
        info = 5
    assert re.search("Section", header[info - 1]), "the last student column must be Section"
    assignments = []
    for name in header[info:]:
        m = re.fullmatch(r"(.*)\s\((\d+)\)", name)
        assignments.append((m[1], m[2]) if m else (name, None))
    points, students = [], []
    for row in rows[1:]:
        if re.search("Points Possible", row[0]):
            points = [float(x) for x in row[info:]]
            continue
        grades = row[info:]
        for g in grades:
            assert g == "" or re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", g), f"not a grade: {g!r}"
        students.append({"name": row[0], "id": row[1], "sis_user_id": row[2] if info == 5 else "",
                         "section": row[info - 1], "grades": [float(g) for g in grades if g]})
    return {"assignments": assignments, "points": points, "students": students}


def moodle_import(path: Path, map_from: str) -> dict:
    """Parse like Moodle's CSV grade import with ``map_from`` as the identity column: {identity: (grade, feedback)}."""
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    header = rows[0]
    assert header[0] == map_from and map_from in ("id", "idnumber", "email", "username")
    grade_col, feedback_col = 1, header.index("Feedback")
    out = {}
    for row in rows[1:]:
        assert row[0], "a blank identity skips the row"
        value = row[grade_col]
        assert value in ("", "-") or float(value) >= 0
        out[row[0]] = (float(value), row[feedback_col])
    return out


def test_canvas_file_follows_the_importer_rules_and_round_trips_roster_ids(canvas_class):
    """Does the Canvas file have the header and Points Possible row Canvas reads, one `Title (id)` column,
    and each student's Canvas id, SIS id and section from the roster next to their final score?"""
    course, out, roster = canvas_class
    result = export("tiny", out=out, course=course, format="canvas", roster=roster, assignment_id="555")
    parsed = canvas_import(result.path)
    assert parsed["assignments"] == [("Tiny exercise (dlgrade's own grading tests)", "555")]
    assert parsed["points"] == [7.0]
    assert [(s["name"], s["id"], s["sis_user_id"], s["section"], s["grades"]) for s in parsed["students"]] == [
        ("Doe, Ann", "101", "S-0101", "Lab A", [5.0]), ("Roe, Bob", "102", "S-0102", "Lab B", [3.0])]
    assert result.left_out == ()


def test_canvas_without_roster_uses_the_ids_from_canvas_file_names(canvas_class):
    """Without a roster, are students matched by the Canvas user id their file name carried?"""
    course, out, _ = canvas_class
    parsed = canvas_import(export("tiny", out=out, course=course, format="canvas").path)
    assert [(s["id"], s["grades"]) for s in parsed["students"]] == [("101", [5.0]), ("102", [3.0])]
    assert parsed["assignments"] == [("Tiny exercise (dlgrade's own grading tests)", None)]


def test_moodle_file_follows_the_importer_rules(canvas_class, tmp_path):
    """Is the Moodle file's identity column named after the roster field, with numeric grades and feedback?"""
    course, out, _ = canvas_class
    roster = tmp_path / "moodle.csv"
    roster.write_text("student_id,email,username\n101,ann@uni.edu,ann\n102,bob@uni.edu,bob\n103,cy@uni.edu,cy\n")
    result = export("tiny", out=out, course=course, format="moodle", roster=roster)
    parsed = moodle_import(result.path, "username")
    assert parsed == {"ann": (5.0, "q1 2/2; q2 3/3; q3 0/2"), "bob": (3.0, "q1 2/2; q2 1/3; q3 0/2")}


def test_plain_csv_is_the_gradebook(canvas_class):
    """Is `--format csv` the gradebook as `dlgrade grade` wrote it?"""
    course, out, _ = canvas_class
    result = export("tiny", out=out, course=course, format="csv")
    assert result.path.read_bytes() == (out / "tiny" / "gradebook.csv").read_bytes() and result.rows == 2


def test_students_missing_from_the_roster_are_listed_not_guessed(canvas_class, tmp_path):
    """Is a graded student whom the roster does not know left out and named?"""
    course, out, _ = canvas_class
    roster = tmp_path / "partial.csv"
    roster.write_text("student_id,sis_user_id\n101,S-1\n")
    result = export("tiny", out=out, course=course, format="canvas", roster=roster)
    assert result.rows == 1 and result.left_out == ("102: not in the roster partial.csv",)


def test_bad_requests_are_one_clear_error(canvas_class, tmp_path):
    """Do a Moodle export without roster, an unknown format and a roster without ids stop with a clear error?"""
    course, out, _ = canvas_class
    with pytest.raises(DlgradeError, match="needs --roster"):
        export("tiny", out=out, course=course, format="moodle")
    with pytest.raises(DlgradeError, match="unknown format 'bb'"):
        export("tiny", out=out, course=course, format="bb")
    bad = tmp_path / "bad.csv"
    bad.write_text("first,last\nAnn,Doe\n")
    with pytest.raises(DlgradeError, match="bad.csv: the roster has no identifier column"):
        export("tiny", out=out, course=course, format="canvas", roster=bad)


def test_the_csv_format_is_made_from_the_results_not_copied(canvas_class):
    """A hand edit of gradebook.csv must not reach one export and not the others: is the csv export made again
    from the results (equal to the gradebook as graded, whatever the file says now)?"""
    course, out, _ = canvas_class
    gradebook = out / "tiny" / "gradebook.csv"
    graded = gradebook.read_bytes()
    try:
        gradebook.write_bytes(graded.replace(b"\n101,", b"\n101,edited,"))
        result = export("tiny", out=out, course=course, format="csv")
        assert result.path.read_bytes() == graded
    finally:
        gradebook.write_bytes(graded)


def test_moodle_column_names_and_a_student_without_the_id_are_handled(canvas_class, tmp_path):
    """Moodle's participants export writes "ID number" and "Email address": are they read? Is a student whose
    row lacks the id left out and named, while the others are written?"""
    course, out, _ = canvas_class
    roster = tmp_path / "participants.csv"
    roster.write_text("First name,Surname,Student ID,ID number,Email address\n"
                      "Ann,Doe,101,,ann@uni.edu\nBob,Roe,102,S-2,bob@uni.edu\n")
    result = export("tiny", out=out, course=course, format="moodle", roster=roster)
    assert moodle_import(result.path, "idnumber") == {"S-2": (3.0, "q1 2/2; q2 1/3; q3 0/2")}
    assert result.rows == 1 and result.left_out == ("101: no idnumber in the roster participants.csv",)


def test_canvas_rows_without_a_canvas_id_are_named_not_written_blank(tmp_path):
    """Students graded from plain file names have no Canvas id: are they left out and named (a blank ID matches
    nobody in Canvas), and is an export where nobody has one an error pointing at --roster?"""
    course = copy_course(tmp_path / "course")
    write_submission(template_of(course), tmp_path / "subs" / "ann.ipynb", answer="")
    write_submission(template_of(course), tmp_path / "subs" / "doebob_102_9002_tiny.ipynb", answer="")
    grader(course, tmp_path / "out")([tmp_path / "subs"])
    result = export("tiny", out=tmp_path / "out", course=course, format="canvas")
    assert [s["id"] for s in canvas_import(result.path)["students"]] == ["102"]
    assert result.left_out == ("ann: no Canvas id (ID, SIS User ID or SIS Login ID) to match on",)
    (tmp_path / "subs" / "doebob_102_9002_tiny.ipynb").unlink()
    grader(course, tmp_path / "out2")([tmp_path / "subs"])
    with pytest.raises(DlgradeError, match="has a Canvas id") as info:
        export("tiny", out=tmp_path / "out2", course=course, format="canvas")
    assert "--roster" in info.value.hint


def test_an_unfinished_grading_run_is_said(canvas_class, tmp_path):
    """When the last `dlgrade grade` stopped before its end (results in the journal that no finished run
    reported), does the export say that submissions it had not reached are missing, also after a review
    has rewritten the reports since?"""
    import shutil

    from dlgrade.grade.load_submissions import Found
    from dlgrade.grade.write_reports import reporting, write_reports

    course, out, _ = canvas_class
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    assert export("tiny", out=copy, course=course, format="csv").warnings == ()
    journal = copy / "tiny" / "journal.jsonl"
    lines = journal.read_text().splitlines(keepends=True)
    journal.write_text("".join(lines + lines[-1:]))          # a result appended by a run that then stopped
    result = export("tiny", out=copy, course=course, format="canvas")
    assert "did not finish" in result.warnings[0] and result.describe().startswith("warning: the last")
    write_reports(reporting("tiny", out=copy, course=course), Found((), {}, ()))   # what a review does
    assert "did not finish" in export("tiny", out=copy, course=course, format="csv").warnings[0]
    (copy / "tiny" / "class.json").unlink()
    assert "did not finish" in export("tiny", out=copy, course=course, format="csv").warnings[0]
