"""The gradebook CSV: one row per student, the same bytes every time for the same results.

Columns: ``student_id, name, score, max_points, percent, status,
needs_review``, then ``raw_score`` (before a late penalty), ``late_penalty``
(points taken off) and ``reviewed`` (questions an instructor scored), then the
points of each question (by id, in the tests' order; reviewed points where
reviewed), then ``file``. ``score`` is the final score. Rows are sorted by student id; numbers are written with
at most 4 decimals and no trailing zeros; there are no timestamps or timings
(those are in the per-submission JSON). ``student_id`` and ``score`` are the
columns an LMS import matches on.

Text cells that a spreadsheet would run as a formula (starting with ``=``,
``+``, ``-`` or ``@``) get a leading ``'``.

``needs_review`` also says ``identity`` when the student id should be checked
(a look-alike of another id, or a file name and metadata naming different
students; the summary page says which).

A student with several files gets one row with status ``duplicate``, a blank
score and all their files in ``file``: nothing is merged or chosen silently.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

from dlgrade.grade.job import Grading, SubmissionFile
from dlgrade.grade.journal import write_atomic

FIXED = ["student_id", "name", "score", "max_points", "percent", "status", "needs_review"]
EXTRA = ["raw_score", "late_penalty", "reviewed"]


def number(x) -> str:
    """``3.5`` -> "3.5", ``2.0`` -> "2", None -> ""."""
    if x is None or x == "":
        return ""
    text = f"{float(x):.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def text(value) -> str:
    """``value`` as a CSV text cell that no spreadsheet evaluates."""
    value = str(value)
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def gradebook_rows(grading: Grading, files: tuple[SubmissionFile, ...], records: dict) -> list[list[str]]:
    """The CSV's rows, header first; ``records`` maps result name -> result dict (None when missing)."""
    qids = [q.id for q in grading.questions]
    rows = [FIXED + EXTRA + qids + ["file"]]
    blank = [""] * (len(EXTRA) + len(qids))
    by_student: dict[str, list[SubmissionFile]] = {}
    for f in files:
        by_student.setdefault(f.student_id, []).append(f)
    for sid in sorted(by_student):
        group = sorted(by_student[sid], key=lambda f: f.origin)
        sid_cell, name = text(sid), text(next((f.name for f in group if f.name), ""))
        identity = ["identity"] if any(f.notes for f in group) else []  # look-alike ids, conflicts: see summary
        if len(group) > 1:
            rows.append([sid_cell, name, "", number(grading.max_points), "", "duplicate", " ".join(identity)] + blank
                        + [text("; ".join(f.origin for f in group))])
            continue
        record = records.get(group[0].result_name)
        if record is None:
            rows.append([sid_cell, name, "", number(grading.max_points), "", "missing", " ".join(identity)] + blank
                        + [text(group[0].origin)])
            continue
        earned = {q["id"]: q["earned"] for q in record["questions"]}
        rows.append([sid_cell, name, number(record["score"]), number(record["max_points"]), number(record["percent"]),
                     record["status"], " ".join(record["needs_review"] + identity),
                     number(record.get("raw_score", record["score"])),
                     number((record.get("late") or {}).get("penalty", 0)),
                     " ".join(q["id"] for q in record["questions"] if q.get("review"))]
                    + [number(earned.get(q)) for q in qids] + [text(group[0].origin)])
    return rows


def write_gradebook(path: Path, rows: list[list[str]]) -> Path:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return write_atomic(path, buf.getvalue().encode("utf-8"))
