"""Reading a class's responses: CSV or JSON, one row per student.

CSV: a header with ``student_id`` and one column per question id (follow-ups
included); an optional ``quiz`` column must hold the quiz id. JSON: a list of
objects, either flat like a CSV row or ``{"student_id": ..., "answers": {qid: ...}}``
(what ``dlgrade quiz take --save`` writes). A multi-select answer may be a JSON
list of letters.

Nothing is dropped silently: a column or key that is not a question of the
quiz is an error (list metadata columns in ``ignore_columns``), and so are
duplicate or empty student ids and ragged CSV rows.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from dlgrade.errors import DlgradeError
from dlgrade.quiz.spec import Quiz


class ResponsesError(DlgradeError):
    """A responses file that cannot be graded as it stands."""


@dataclass(frozen=True)
class ResponseRow:
    """One student's answers."""

    student_id: str
    """The student, as in the file."""
    answers: dict[str, str]
    """Question id -> answer text (absent or empty: not answered)."""
    where: str
    """File and line (CSV) or index (JSON), for messages."""


def _as_text(value: Any, where: str) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ",".join(_as_text(v, where) for v in value)
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value)
    raise ResponsesError(f"{where}: answer {value!r} is not text, a number or a list")


def _read_csv(path: Path) -> list[tuple[str, dict[str, Any]]]:
    text = path.read_text(encoding="utf-8-sig")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ResponsesError(f"{path}: empty file; expected a header with student_id and question ids") from None
    header = [h.strip() for h in header]
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise ResponsesError(f"{path}: column {dupes[0]!r} appears twice in the header")
    rows = []
    for line_no, fields in enumerate(reader, start=2):
        if not any(f.strip() for f in fields):
            continue
        if len(fields) > len(header):
            raise ResponsesError(f"{path}: line {line_no} has {len(fields)} fields but the header has "
                                 f"{len(header)} (quote answers that contain commas)")
        fields = fields + [""] * (len(header) - len(fields))
        rows.append((f"{path}: line {line_no}", dict(zip(header, fields))))
    return rows


def _read_json(path: Path) -> list[tuple[str, dict[str, Any]]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise ResponsesError(f"{path}: not valid JSON (line {exc.lineno}): {exc.msg}") from None
    if isinstance(data, dict) and "responses" in data:
        data = data["responses"]
    if not isinstance(data, list):
        raise ResponsesError(f"{path}: expected a JSON list of student objects")
    rows = []
    for i, obj in enumerate(data):
        where = f"{path}: item {i}"
        if not isinstance(obj, dict):
            raise ResponsesError(f"{where}: expected an object with student_id and answers")
        if "answers" in obj:
            extra = set(obj) - {"student_id", "answers", "quiz"}
            if extra:
                raise ResponsesError(f"{where}: unknown key {sorted(extra)[0]!r} next to 'answers'")
            if not isinstance(obj["answers"], dict):
                raise ResponsesError(f"{where}: 'answers' must map question ids to answers")
            flat = {k: v for k, v in obj.items() if k != "answers"}
            flat.update(obj["answers"])
            obj = flat
        rows.append((where, obj))
    return rows


def read_responses(path: str | Path, quiz: Quiz, *, ignore_columns: Iterable[str] = ()) -> list[ResponseRow]:
    """Read and check a responses file against ``quiz``; see the module docstring for the rules."""
    path = Path(path)
    if not path.is_file():
        raise ResponsesError(f"{path}: responses file not found")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        raw = _read_csv(path)
    elif suffix == ".json":
        raw = _read_json(path)
    else:
        raise ResponsesError(f"{path}: unknown responses format {suffix!r}; use .csv or .json")
    known = {q.id for q in quiz.all_questions()}
    ignored = set(ignore_columns)
    rows, seen = [], {}
    unknown: dict[str, str] = {}
    for where, obj in raw:
        sid = _as_text(obj.get("student_id"), where).strip()
        if "student_id" not in obj:
            raise ResponsesError(f"{where}: no student_id", hint="the first column/key must be student_id")
        if not sid:
            raise ResponsesError(f"{where}: empty student_id")
        if sid in seen:
            raise ResponsesError(f"{where}: student {sid!r} already has a row ({seen[sid]})")
        seen[sid] = where
        quiz_id = _as_text(obj.get("quiz"), where).strip()
        if quiz_id and quiz_id != quiz.id:
            raise ResponsesError(f"{where}: responses are for quiz {quiz_id!r}, not {quiz.id!r}")
        answers = {}
        for key, value in obj.items():
            if key in ("student_id", "quiz") or key in ignored:
                continue
            if key not in known:
                unknown.setdefault(str(key), where)
                continue
            answers[key] = _as_text(value, f"{where}: {key}").strip()
        rows.append(ResponseRow(sid, answers, where))
    if unknown:
        names = sorted(unknown)
        raise ResponsesError(f"{path}: unknown question id{'s' if len(names) > 1 else ''} "
                             f"{', '.join(map(repr, names))} (not in quiz {quiz.id!r}; first at {unknown[names[0]]})",
                             hint="fix the column names, or pass --ignore-column NAME for metadata columns")
    if not rows:
        raise ResponsesError(f"{path}: no student rows")
    return rows
