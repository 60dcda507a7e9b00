"""Resuming a batch: an append-only journal of finished submissions, and atomic writes.

After each submission the main thread writes its ``results/<name>.json``
atomically (a temporary file, fsync, ``os.replace``, fsync of the folder) and
only then appends one line to ``journal.jsonl`` (fsync'd). A submission is
done when its journal line and its JSON agree on the key (student id, file
SHA-256, exercise, profile, grader version). So after Ctrl-C or ``kill -9`` a
rerun grades exactly what is missing: a half-written JSON never exists, a torn
last journal line is ignored, and a submission whose JSON was written but not
journaled is graded again and overwrites it. Gradebook and reports are rebuilt
from the JSONs, one per submission, so no row is lost or duplicated.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from dlgrade.atomic import write_atomic
from dlgrade.grade.job import Grading, SubmissionFile

KEY_FIELDS = ("student_id", "sha256", "exercise", "profile", "grader")


def remove_temporary(folder: Path) -> None:
    """Delete temporary files a killed :func:`write_atomic` left in ``folder`` and its subfolders."""
    if folder.is_dir():
        for tmp in folder.rglob(".*.tmp"):
            tmp.unlink(missing_ok=True)


def result_path(grading: Grading, item: SubmissionFile) -> Path:
    return grading.out / "results" / f"{item.result_name}.json"


def key_of(grading: Grading, item: SubmissionFile) -> dict:
    return {"student_id": item.student_id, "sha256": item.sha256, "exercise": grading.exercise.id,
            "profile": grading.profile.name, "grader": grading.grader}


def read_result(path: Path) -> dict | None:
    """A result JSON, or None when missing or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


class Journal:
    """``journal.jsonl`` in an exercise's output folder."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def entries(self) -> list[dict]:
        """Complete lines, in order; a torn or garbled line (a kill mid-write) is skipped."""
        try:
            lines = self.path.read_bytes().split(b"\n")
        except FileNotFoundError:
            return []
        out = []
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict):
                out.append(entry)
        return out

    def keys(self) -> set[tuple]:
        return {tuple(e.get(k) for k in KEY_FIELDS) for e in self.entries()}

    def is_done(self, grading: Grading, item: SubmissionFile, keys: set[tuple]) -> bool:
        """Journaled, and its result JSON on disk has the same key."""
        key = key_of(grading, item)
        if tuple(key.values()) not in keys:
            return False
        record = read_result(result_path(grading, item))
        return record is not None and all(record.get(k) == v for k, v in key.items())

    def record(self, grading: Grading, item: SubmissionFile, record: dict) -> Path:
        """Write the result JSON atomically, then journal it."""
        path = write_atomic(result_path(grading, item),
                            (json.dumps(record, indent=1, sort_keys=True) + "\n").encode("utf-8"))
        entry = key_of(grading, item) | {"result": path.relative_to(grading.out).as_posix()}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "ab") as fh:
            # A line torn by an earlier kill is closed off so that this one parses.
            if fh.tell() and not _ends_with_newline(self.path):
                fh.write(b"\n")
            fh.write(json.dumps(entry, sort_keys=True).encode("utf-8") + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        return path


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as fh:
        fh.seek(-1, os.SEEK_END)
        return fh.read(1) == b"\n"
