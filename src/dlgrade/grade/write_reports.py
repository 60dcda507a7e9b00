"""Step 7 (once per batch): the reports, rebuilt from the per-submission result JSONs.

Writes, in the exercise's output folder: ``gradebook.csv``
(:mod:`.write_gradebook`), ``feedback/<result name>.html`` per submission
(:mod:`.write_feedback`) and ``summary.html`` (:mod:`.write_summary`). Because
they are rebuilt from the results of exactly the submissions found this time,
they are consistent with each other and with the inputs, whatever was
interrupted before; feedback pages of submissions no longer among the inputs
are removed (their result JSONs stay).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dlgrade.grade.job import Grading
from dlgrade.grade.journal import key_of, read_result, result_path, write_atomic
from dlgrade.grade.write_feedback import feedback_html
from dlgrade.grade.write_gradebook import gradebook_rows, write_gradebook
from dlgrade.grade.write_summary import summary_html


@dataclass(frozen=True)
class Reports:
    """Where the reports went, and the records they came from."""

    gradebook: Path
    summary: Path
    feedback: Path
    """The folder of per-student pages."""
    records: dict
    """Result name -> result record (None when missing)."""


def load_records(grading: Grading, found) -> dict:
    """The result record of each submission found, when it matches the submission's key."""
    records = {}
    for f in found.files:
        record = read_result(result_path(grading, f))
        if record is not None and any(record.get(k) != v for k, v in key_of(grading, f).items()):
            record = None
        if record is not None:
            record["_name"] = f.result_name
        records[f.result_name] = record
    return records


def write_reports(grading: Grading, found) -> Reports:
    out = grading.out
    records = load_records(grading, found)
    gradebook = write_gradebook(out / "gradebook.csv", gradebook_rows(grading, found.files, records))
    for name, record in records.items():
        if record is not None:
            write_atomic(out / "feedback" / f"{name}.html",
                         feedback_html(record, title=grading.exercise.title, out=out).encode("utf-8"))
    for page in (out / "feedback").glob("*.html"):  # students no longer among the inputs
        if records.get(page.stem) is None:
            page.unlink()
    summary = write_atomic(out / "summary.html", summary_html(grading, found, records).encode("utf-8"))
    return Reports(gradebook, summary, out / "feedback", records)
