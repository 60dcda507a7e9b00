"""Step 7 (once per batch): the reports of the whole class, rebuilt from the result JSONs.

Writes, in the exercise's output folder: ``gradebook.csv``
(:mod:`.write_gradebook`), ``feedback/<result name>.html`` per submission
(:mod:`.write_feedback`) and ``summary.html`` (:mod:`.write_summary`).

**The reports always describe the whole class**, whatever subset a call
graded: the class is this call's submissions plus, for every other student
the journal has a result for, their latest journaled result (when its JSON
still matches the journal's key). So grading three students and then
regrading one (``--only``) leaves all three in every report. Reviews from
``reviews.jsonl`` (:mod:`dlgrade.review.store`) replace the automatic points
of the questions they cover, then the late policy (:mod:`.late_policy`)
takes its penalty off the score. ``class.json`` records who the class is
(result names, duplicates, ignored inputs) for the next rebuild. To take a student out of the class, delete their
``results/<name>.json``; feedback pages of submissions no longer in the class
are removed.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from dlgrade.grade.job import Grading, SubmissionFile
from dlgrade.grade.journal import KEY_FIELDS, Journal, key_of, read_result, result_path, write_atomic
from dlgrade.grade.late_policy import apply_late, load_policy, read_times
from dlgrade.grade.load_submissions import Found
from dlgrade.grade.write_feedback import feedback_html, rubric_labels
from dlgrade.grade.write_gradebook import gradebook_rows, write_gradebook
from dlgrade.grade.write_summary import summary_html
from dlgrade.review.store import apply_reviews, read_reviews


@dataclass(frozen=True)
class Reports:
    """Where the reports went, and the records they came from."""

    gradebook: Path
    summary: Path
    feedback: Path
    """The folder of per-student pages."""
    records: dict
    """Result name -> result record as reported (reviews applied; None when missing)."""
    found: Found
    """The whole class: this call's submissions and the earlier students' latest ones."""


CLASS = "class.json"
"""Who is in the class, as the last report saw it: result names, duplicates, ignored inputs."""


def load_class(grading: Grading, found: Found) -> tuple[Found, dict]:
    """The class (see the module docstring) and result name -> record (None when missing or stale).

    Students not among ``found`` come from the journal: those of the previous
    class (``class.json``, which also keeps their duplicates and the ignored
    inputs), else each student's latest result.
    """
    records = {}
    files = list(found.files)
    for f in found.files:
        record = read_result(result_path(grading, f))
        if record is not None and any(record.get(k) != v for k, v in key_of(grading, f).items()):
            record = None
        if record is not None:
            record["_name"] = f.result_name
        records[f.result_name] = record
    current = {f.student_id for f in found.files}
    before = read_result(grading.out / CLASS) or {}
    names = set(before.get("results", [])) if isinstance(before.get("results"), list) else None
    duplicates = {k: tuple(v) for k, v in (before.get("duplicates") or {}).items()
                  if k not in current and isinstance(v, list)}
    ignored = found.ignored if found.files else tuple(str(i) for i in before.get("ignored") or ())
    taken: set[str] = set()
    for entry in reversed(Journal(grading.out / "journal.jsonl").entries()):
        sid, rel = entry.get("student_id"), entry.get("result")
        if (sid in current or entry.get("exercise") != grading.exercise.id
                or entry.get("profile") != grading.profile.name or not isinstance(rel, str)):
            continue
        rel_path = PurePosixPath(rel)
        name = rel_path.stem
        if (rel_path.parent != PurePosixPath("results") or rel_path.suffix != ".json" or name in taken
                or (names is not None and name not in names) or (names is None and sid in taken)):
            continue
        record = read_result(grading.out / rel_path)
        if record is None or any(record.get(k) != entry.get(k) for k in KEY_FIELDS):
            continue
        taken.update((name, sid) if names is None else (name,))
        record["_name"] = name
        records[name] = record
        files.append(SubmissionFile(Path(str(record.get("file", ""))), str(record.get("file", "")), sid,
                                    str(record.get("id_source", "")), record["sha256"],
                                    name=str(record.get("name", "")), result_name=name))
    files.sort(key=lambda f: (f.student_id, f.origin))
    duplicates = dict(sorted((dict(found.duplicates) | duplicates).items()))
    return Found(tuple(files), duplicates, ignored), records


def reported(grading: Grading, found: Found) -> tuple[Found, dict]:
    """The class and its records as the reports show them: reviews applied, then the late penalty."""
    klass, records = load_class(grading, found)
    reviews = read_reviews(grading.out)
    policy = load_policy(grading.exercise)
    times = read_times(grading.out, policy.zone) if policy else {}
    return klass, {name: (apply_late(apply_reviews(r, reviews), policy, times) if r is not None else None)
                   for name, r in records.items()}


def write_reports(grading: Grading, found: Found) -> Reports:
    out = grading.out
    klass, records = reported(grading, found)
    gradebook = write_gradebook(out / "gradebook.csv", gradebook_rows(grading, klass.files, records))
    labels = rubric_labels(grading.exercise)
    for name, record in records.items():
        if record is not None:
            write_atomic(out / "feedback" / f"{name}.html",
                         feedback_html(record, title=grading.exercise.title, out=out, labels=labels).encode("utf-8"))
    for page in (out / "feedback").glob("*.html"):  # students no longer in the class
        if records.get(page.stem) is None:
            page.unlink()
    # How much of the journal a finished grading run had written when it reported (a review reports
    # again without grading: it keeps the figure), so that an export can tell an unfinished run.
    journal = out / "journal.jsonl"
    finished = (journal.stat().st_size if journal.is_file() else 0) if found.files else \
        (read_result(out / CLASS) or {}).get("journal_bytes")
    write_atomic(out / CLASS, (json.dumps({"results": sorted(records), "duplicates": klass.duplicates,
                                           "ignored": list(klass.ignored), "journal_bytes": finished},
                                          indent=1, sort_keys=True) + "\n").encode("utf-8"))
    summary = write_atomic(out / "summary.html",
                           summary_html(grading, klass, records, labels=labels).encode("utf-8"))
    return Reports(gradebook, summary, out / "feedback", records, klass)


def reporting(exercise: str, *, out: Path, profile: str = "quick", course=None) -> Grading:
    """What the reports of ``exercise`` in ``out`` are built with: a :class:`~dlgrade.grade.job.Grading`
    without the template notebook and without loading the profile's datasets (nothing is graded)."""
    from dlgrade.errors import SpecError
    from dlgrade.grade.keys import grader_version, grading_secret
    from dlgrade.harness.course import find_course
    from dlgrade.harness.questions import load_questions

    ex = find_course(course).exercise(exercise)
    prof = ex.profile(profile)
    questions = tuple(q for q in load_questions(ex.tests_path) if not q.public)
    if not questions:
        raise SpecError(f"{ex.tests_path}: no graded questions")
    load_policy(ex)
    secret = grading_secret(ex)
    return Grading(ex, prof, questions, None, secret, grader_version(ex, secret), Path(out) / ex.id)
