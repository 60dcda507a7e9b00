"""Late submissions: the policy's validation, Canvas's `_late_` marker, submission times and the penalty."""
from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime, timedelta, timezone

import pytest
import yaml

from dlgrade.errors import SpecError
from dlgrade.grade.late_policy import LatePolicy, policy_from_dict

DUE = datetime(2026, 11, 20, 23, 59, tzinfo=timezone.utc)


def _set_late(course, late: dict) -> None:
    path = course / "autograder" / "tiny" / "exercise.yaml"
    spec = yaml.safe_load(path.read_text())
    spec["late"] = late
    path.write_text(yaml.safe_dump(spec))


def _rows(summary) -> dict:
    return {r["student_id"]: r for r in csv.DictReader(io.StringIO(summary.gradebook.read_text()))}


def test_penalty_per_started_day_is_capped_and_zero_after_the_cut_off():
    """Are days counted after the grace and rounded up, the penalty capped, and a very late one zeroed?"""
    policy = LatePolicy(DUE, timedelta(minutes=15), per_day=10, max_penalty=30, zero_after_days=7)
    at = lambda **kw: DUE + timedelta(**kw)  # noqa: E731
    assert policy.penalty(at(minutes=10), marked_late=True, points=10)[0] == 0
    assert policy.penalty(at(minutes=20), marked_late=False, points=10)[0] == 1
    assert policy.penalty(at(days=1, minutes=20), marked_late=False, points=10)[0] == 2
    assert policy.penalty(at(days=5), marked_late=False, points=10)[0] == 3
    assert policy.penalty(at(days=8), marked_late=False, points=10) == (10, "8.0 days late, after the 7-day cut-off")
    assert policy.penalty(None, marked_late=True, points=10)[0] == 1


@pytest.mark.parametrize("late, message", [
    ({"per_day": 10}, "late.due is missing"),
    ({"due": "next friday"}, "late.due: 'next friday' is not a date and time"),
    ({"due": "2026-11-20", "per_day": 150}, "late.per_day should be a number between 0 and 100"),
    ({"due": "2026-11-20", "timezone": "Mars/Olympus"}, "late.timezone 'Mars/Olympus' is not a known time zone"),
    ({"due": "2026-11-20", "penalty": 5}, "unknown field late.penalty"),
])
def test_bad_policies_name_the_file_and_field(late, message):
    """Does each mistake in a late policy give a message with the file and the field?"""
    with pytest.raises(SpecError, match=f"^ex.yaml: .*{message}"):
        policy_from_dict(late, "ex.yaml")


def test_canvas_late_marker_gives_that_student_the_penalty(grade, course, make_submission, tmp_path):
    """In a Canvas zip with one `_late_` file and a due date, does only that student lose a day's penalty,
    with raw score, penalty and final score in the gradebook and the feedback?"""
    _set_late(course, {"due": "2026-11-20 23:59", "timezone": "Europe/Berlin", "per_day": 20})
    archive = tmp_path / "submissions.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name in ("doeann_101_9001_tiny.ipynb", "roebob_late_102_9002_tiny.ipynb"):
            zf.write(make_submission(name, answer=""), name)
    summary = grade([archive])
    rows = _rows(summary)
    assert (rows["101"]["raw_score"], rows["101"]["late_penalty"], rows["101"]["score"]) == ("5", "0", "5")
    assert (rows["102"]["raw_score"], rows["102"]["late_penalty"], rows["102"]["score"]) == ("5", "1", "4")
    page = (summary.out / "feedback" / "102.html").read_text()
    assert "marked late by the LMS" in page and "&minus;1 points" in page


def test_submission_times_from_a_csv_set_the_days_late(grade, course, make_submission, tmp_path):
    """With `--submitted-at` times, is the penalty counted from them (2 started days: 2 x 10%)?"""
    _set_late(course, {"due": "2026-11-20T23:59:00Z", "per_day": 10, "max_penalty": 50})
    times = tmp_path / "times.csv"
    times.write_text("student_id,submitted_at\nann,2026-11-20T23:00:00Z\nbob,2026-11-22T10:00:00Z\n")
    paths = [make_submission(n) for n in ("ann.ipynb", "bob.ipynb")]
    rows = _rows(grade(paths, submitted_at=times))
    assert (rows["ann"]["late_penalty"], rows["ann"]["score"]) == ("0", "7")
    assert (rows["bob"]["late_penalty"], rows["bob"]["score"]) == ("1.4", "5.6")
    times.write_text("student_id,submitted_at\nbob,yesterday\n")
    with pytest.raises(SpecError, match="times.csv: row 2: submitted_at"):
        grade(paths, submitted_at=times)


def test_times_without_an_offset_are_in_the_policys_timezone(grade, course, make_submission, tmp_path):
    """A deadline of 23:59 in Berlin and times written as Canvas shows them (local, no offset): is 23:00 on
    time and 00:30 the next day 31 minutes late, as the instructor reads them (not as UTC)?"""
    _set_late(course, {"due": "2026-11-20 23:59", "timezone": "Europe/Berlin", "per_day": 10})
    times = tmp_path / "times.csv"
    times.write_text("student_id,submitted_at\nann,2026-11-20 23:00\nbob,2026-11-21 00:30\n"
                     "cat,2026-11-20T23:00:00Z\n")
    summary = grade([make_submission(f"{n}.ipynb") for n in ("ann", "bob", "cat")], submitted_at=times)
    rows = _rows(summary)
    assert [rows[n]["late_penalty"] for n in ("ann", "bob", "cat")] == ["0", "0.7", "0.7"]
    assert "31 min late" in (summary.out / "feedback" / "bob.html").read_text()


def test_times_for_students_without_a_submission_are_named(grade, course, make_submission, tmp_path, caplog):
    """A submitted_at row whose id matches no submission (a typo, another section) is not used: is it named?"""
    _set_late(course, {"due": "2026-11-20T23:59:00Z", "per_day": 10})
    times = tmp_path / "times.csv"
    times.write_text("student_id,submitted_at\nann,2026-11-20T23:00:00Z\nanm,2026-11-22T10:00:00Z\n")
    with caplog.at_level("WARNING"):
        grade([make_submission("ann.ipynb")], submitted_at=times)
    assert "times.csv: 1 row(s) name no submission among the inputs, and are not used (first: anm)" in caplog.text


def test_course_yaml_gives_the_policy_when_the_exercise_has_none(course):
    """Without `late` in exercise.yaml, is course.yaml's policy used (and a bad one named by its file)?"""
    from dlgrade.grade.late_policy import load_policy
    from dlgrade.harness.course import find_course

    (course / "course.yaml").write_text("late:\n  due: 2026-11-20T12:00:00Z\n  per_day: 5\n")
    policy = load_policy(find_course(course).exercise("tiny"))
    assert policy.per_day == 5 and policy.due == datetime(2026, 11, 20, 12, tzinfo=timezone.utc)
    (course / "course.yaml").write_text("late:\n  due: 2026-11-20\n  max_penalty: -1\n")
    with pytest.raises(SpecError, match=r"course.yaml: late.max_penalty should be a number between 0 and 100"):
        load_policy(find_course(course).exercise("tiny"))
