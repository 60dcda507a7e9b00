"""``dlgrade export-grades``: the final grades of an exercise as a file an LMS imports.

Formats (each matches the rules of the target's importer; see the tests):

``canvas``
    A Canvas gradebook CSV: ``Student, ID, SIS User ID, SIS Login ID,
    Section`` then one assignment column ``<Title> (<assignment id>)`` (without
    ``--assignment-id``, ``<Title>``: Canvas matches it by title or creates
    the assignment), and a ``Points Possible`` row. Canvas matches a row by
    its ``ID`` (the Canvas user id), then the SIS ids, from the roster or,
    without one, from Canvas file names.
``moodle``
    One identity column named after the roster field that holds it
    (``idnumber``, ``username`` or ``email``: map it under "Identify user by"),
    a grade column named after the exercise and a ``Feedback`` column; needs
    a roster.
``csv``
    The gradebook as ``dlgrade grade`` writes it, made again from the results
    (a hand edit of ``gradebook.csv`` does not reach any export: record changes
    as reviews).

Grades are the final scores: reviews applied, late penalty deducted.
Students without a score (duplicates, missing results), not in the roster, or
without the id the LMS matches on are left out and listed in the result. When
the last ``dlgrade grade`` run did not finish, the result says so: submissions
it had not reached are in no export until it is run again.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from dlgrade.atomic import write_atomic
from dlgrade.errors import DlgradeError
from dlgrade.grade.write_gradebook import number, text

FORMATS = ("canvas", "moodle", "csv")
MOODLE_IDS = ("idnumber", "username", "email")
__all__ = ["main", "Exported", "FORMATS"]


@dataclass(frozen=True)
class Exported:
    """What an export wrote."""

    path: Path
    rows: int
    """Students written."""
    left_out: tuple[str, ...] = field(default_factory=tuple)
    """Students not written, each with the reason."""
    warnings: tuple[str, ...] = field(default_factory=tuple)
    """What the instructor should know before importing (an unfinished grading run, say)."""

    def describe(self) -> str:
        lines = [f"warning: {w}" for w in self.warnings]
        lines.append(f"{self.rows} student(s) written to {self.path}")
        if self.left_out:
            lines.append(f"{len(self.left_out)} left out:")
            lines += [f"  {s}" for s in self.left_out]
        return "\n".join(lines)


def main(exercise: str, *, out: Path = Path("dlgrade-out"), format: str = "canvas", roster: Path | None = None,
         dest: Path | None = None, profile: str = "quick", course=None, assignment_id: str | None = None,
         title: str | None = None) -> Exported:
    """Write ``exercise``'s grades from ``out`` in ``format``; ``dest`` defaults to
    ``<out>/<exercise>/grades-<format>.csv``."""
    from dlgrade.grade.roster import read_roster
    from dlgrade.grade.load_submissions import Found
    from dlgrade.grade.write_reports import reported, reporting

    if format not in FORMATS:
        raise DlgradeError(f"unknown format {format!r}: use {', '.join(FORMATS)}")
    if assignment_id is not None and not str(assignment_id).isdigit():
        raise DlgradeError(f"--assignment-id {assignment_id!r}: Canvas assignment ids are numbers",
                           hint="the number after /assignments/ in the assignment's URL")
    grading = reporting(exercise, out=Path(out), profile=profile, course=course)
    if not (grading.out / "journal.jsonl").is_file():
        raise DlgradeError(f"{grading.out}: nothing graded yet for {exercise}",
                           hint=f"grade first: dlgrade grade SUBMISSIONS -e {exercise} --out {out}")
    klass, records = reported(grading, Found((), {}, ()))
    dest = Path(dest) if dest else grading.out / f"grades-{format}.csv"
    warnings = _unfinished(grading.out, exercise, out)
    if format == "csv":
        from dlgrade.grade.write_gradebook import gradebook_rows, write_gradebook

        rows = gradebook_rows(grading, klass.files, records)
        write_gradebook(dest, rows)
        return Exported(dest, len(rows) - 1, warnings=warnings)
    people = read_roster(roster) if roster else None
    if format == "moodle" and people is None:
        raise DlgradeError("the Moodle format needs --roster (a CSV with idnumber, username or email per student)",
                           hint="export the participants from Moodle, with a student_id column holding dlgrade's ids")
    graded, left_out = [], []
    for f in klass.files:
        record = records.get(f.result_name)
        if f.student_id in klass.duplicates:
            left_out.append(f"{f.student_id}: several files, no score until resolved")
        elif record is None:
            left_out.append(f"{f.student_id}: no result")
        elif people is not None and people.find(f.student_id) is None:
            left_out.append(f"{f.student_id}: not in the roster {people.path.name}")
        else:
            graded.append((f, record, people.find(f.student_id) if people else None))
    name = title or grading.exercise.title
    if format == "canvas":
        data, written, unmatched = _canvas(graded, name, assignment_id, grading.max_points)
        left_out += [f"{sid}: no Canvas id (ID, SIS User ID or SIS Login ID) to match on" for sid in unmatched]
        if not written and unmatched:
            raise DlgradeError(f"none of the {len(unmatched)} graded student(s) has a Canvas id, so Canvas could "
                               "match no row", hint="give --roster with a Canvas gradebook export (its ID column), "
                                                    "or a CSV mapping student_id to canvas_id")
    else:
        data, written, missing = _moodle(graded, name, people)
        left_out += [f"{sid}: no {field_name} in the roster {people.path.name}" for sid, field_name in missing]
    write_atomic(dest, data.encode("utf-8"))
    return Exported(dest, written, tuple(dict.fromkeys(left_out)), warnings)


def _unfinished(folder: Path, exercise: str, out) -> tuple[str, ...]:
    """A warning when the last grading run stopped before its end: a run that finishes records in the
    class list how much of the journal it had written, and reviews keep that figure."""
    from dlgrade.grade.write_reports import CLASS, read_result

    journal = folder / "journal.jsonl"
    finished = (read_result(folder / CLASS) or {}).get("journal_bytes")
    if isinstance(finished, int) and finished == journal.stat().st_size:
        return ()
    return (f"the last `dlgrade grade` run for {exercise} did not finish: submissions it had not reached "
            f"are not in this export (run it again with the same inputs and --out {out}, then export)",)


def _write(rows) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def _canvas(graded, title: str, assignment_id: str | None, max_points: float) -> str:
    column = f"{title} ({assignment_id})" if assignment_id else title
    rows = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", column],
            ["Points Possible", "", "", "", "", number(max_points)]]
    unmatched = []
    for f, record, person in sorted(graded, key=lambda g: g[0].student_id):
        person = person or {}
        canvas_id = person.get("canvas_id") or (f.student_id if f.id_source == "canvas" else "")
        if not (canvas_id or person.get("sis_user_id") or person.get("sis_login_id")):
            unmatched.append(f.student_id)
            continue
        rows.append([text(person.get("name") or record.get("name") or f.student_id), text(canvas_id),
                     text(person.get("sis_user_id", "")), text(person.get("sis_login_id", "")),
                     text(person.get("section", "")), number(record["score"])])
    return _write(rows), len(rows) - 2, unmatched


def feedback_text(record: dict) -> str:
    """One line for the LMS: the score per question, and the reviewers' comments."""
    parts = []
    for q in record["questions"]:
        part = f"{q['id']} {number(q['earned'])}/{number(q['points'])}"
        comment = (q.get("review") or {}).get("comment")
        parts.append(part + (f" ({comment})" if comment else ""))
    late = record.get("late") or {}
    if late.get("penalty"):
        parts.append(f"late penalty -{number(late['penalty'])}")
    return "; ".join(parts)


def _moodle(graded, title: str, people) -> str:
    field_name = next((f for f in MOODLE_IDS if f in people.columns), None)
    if field_name is None:
        raise DlgradeError(f"{people.path}: the Moodle format needs an idnumber, username or email column")
    rows = [[field_name, title, "Feedback"]]
    missing = []
    for f, record, person in sorted(graded, key=lambda g: g[0].student_id):
        if not person.get(field_name):
            missing.append((f.student_id, field_name))
            continue
        rows.append([text(person[field_name]), number(record["score"]), text(feedback_text(record))])
    return _write(rows), len(rows) - 1, missing
