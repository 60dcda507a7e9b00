"""Reading a class's responses: CSV or JSON, one row per student.

CSV: a header with ``student_id`` and one column per question id (follow-ups
included); an optional ``quiz`` column must hold the quiz id. JSON: a list of
objects, either flat like a CSV row or ``{"student_id": ..., "answers": {qid: ...}}``
(what ``dlgrade quiz take --save`` writes). A multi-select answer may be a JSON
list of letters.

Nothing is dropped silently: a column or key that is not a question of the
quiz is an error (list metadata columns in ``ignore_columns``), and so are
duplicate or empty student ids and ragged CSV rows (more or fewer fields than
the header). Every row of a CSV is graded or named by its line: a quote that
is never closed, or a quoted answer that holds what look like other
students' rows, is an error naming the line, never a silent merge.

Files are UTF-8 (a byte-order mark is fine) or UTF-16 (Excel's "Unicode
text", tab-separated); other encodings are refused with the line of the first
odd byte and how to save the file as UTF-8. An answer longer than
:data:`MAX_ANSWER_CHARS` is cut there, with a warning.
"""
from __future__ import annotations

import codecs
import csv
import io
import json
import logging
import re
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from dlgrade.errors import DlgradeError
from dlgrade.grade.roster import field_of
from dlgrade.quiz.spec import Quiz
from dlgrade.rubric.grade import MAX_ANSWER_CHARS

log = logging.getLogger(__name__)


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
    notes: tuple[str, ...] = ()
    """What was changed while reading (an answer cut at :data:`MAX_ANSWER_CHARS`)."""


def _as_text(value: Any, where: str) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ",".join(_as_text(v, where) for v in value)
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value)
    raise ResponsesError(f"{where}: answer {value!r} is not text, a number or a list")


def decode_text(path: Path, raw: bytes) -> str:
    """The file's text: UTF-8 (with or without a byte-order mark) or UTF-16 (with a mark, or detected from its
    zero bytes); anything else is refused with the line of the first byte that is not UTF-8."""
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8):]
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode_utf16(path, raw, "utf-16")
    elif _mostly_zero(raw[1::2]):
        return _decode_utf16(path, raw, "utf-16-le")
    elif _mostly_zero(raw[0::2]):
        return _decode_utf16(path, raw, "utf-16-be")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise ResponsesError(
            f"{path}: not UTF-8 text (byte 0x{raw[exc.start]:02x} on line {line}); it may be Latin-1 or "
            f"Windows-1252", hint="save the file as UTF-8 (in Excel: 'CSV UTF-8'; in LibreOffice: "
                                  "character set 'Unicode (UTF-8)')") from None


def _mostly_zero(sample: bytes) -> bool:
    sample = sample[:256]
    return len(sample) >= 2 and sample.count(0) > 0.9 * len(sample)


def _decode_utf16(path: Path, raw: bytes, codec: str) -> str:
    try:
        return raw.decode(codec)
    except UnicodeDecodeError:
        raise ResponsesError(f"{path}: looks like UTF-16 text but cannot be decoded as such",
                             hint="save the file as UTF-8") from None


def _delimiter(header_line: str) -> str:
    """A comma, or a tab or semicolon when the header has no comma (Excel's "Unicode text", some locales' CSV)."""
    if "," in header_line:
        return ","
    for delimiter in ("\t", ";"):
        if delimiter in header_line:
            return delimiter
    return ","


@contextmanager
def _field_limit(limit: int):
    """csv's largest field raised to ``limit`` while reading (its default, 128 KiB, fails on a long answer)."""
    old = csv.field_size_limit()
    csv.field_size_limit(max(old, limit))
    try:
        yield
    finally:
        csv.field_size_limit(old)


def _read_csv(path: Path) -> list[tuple[str, dict[str, Any]]]:
    text = decode_text(path, path.read_bytes())
    delimiter = _delimiter(text.split("\n", 1)[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    problems: list[str] = []
    rows = []
    with _field_limit(len(text) + 1):
        try:
            header = next(reader)
        except StopIteration:
            raise ResponsesError(f"{path}: empty file; expected a header with student_id and question ids") from None
        except csv.Error as exc:
            raise ResponsesError(f"{path}: line 1: the header cannot be read ({exc})") from None
        header = [h.strip() for h in header]
        header = ["student_id" if field_of(h) == "student_id" else h for h in header]   # "Student ID" too
        dupes = sorted({h for h in header if header.count(h) > 1})
        if dupes:
            raise ResponsesError(f"{path}: column {dupes[0]!r} appears twice in the header")
        if "student_id" not in header:
            raise ResponsesError(f"{path}: line 1: the header has no student_id column",
                                 hint="name one column student_id (the other columns are question ids)")
        while True:
            start = reader.line_num + 1
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                problems.append(f"line {start}: {_quote_problem(exc, reader.line_num)}")
                break  # past a broken quote, the rest of the file cannot be split into rows reliably
            if not any(f.strip() for f in fields):
                continue
            if len(fields) != len(header):
                problems.append(f"line {start} has {len(fields)} field{'s' if len(fields) != 1 else ''} but the header "
                                f"has {len(header)}"
                                + (" (quote answers that contain commas)" if len(fields) > len(header) else
                                   " (every row needs a field per column, even an empty one)"))
                continue
            swallowed = _swallowed_rows(fields, len(header), delimiter)
            if swallowed:
                problems.append(f"line {start}: a quoted answer runs on to line {reader.line_num} and holds what "
                                f"look like other students' rows ({swallowed}); a quote is probably not closed")
                continue
            rows.append((f"{path}: line {start}", dict(zip(header, fields))))
    if problems:
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise ResponsesError(f"{path}: {len(problems)} row(s) cannot be read: {'; '.join(problems[:5])}{more}",
                             hint="fix these rows; nobody is graded while a row cannot be read")
    return rows


def _quote_problem(exc: csv.Error, end: int) -> str:
    if "unexpected end of data" in str(exc):
        return f"a quote opened on this row is never closed (it runs to the end of the file, line {end})"
    return f"the row cannot be split into fields ({exc}, by line {end}); check its quotes"


def _swallowed_rows(fields: list[str], width: int, delimiter: str) -> str:
    """The ids of what look like whole rows inside one field (after an unbalanced quote), or ''."""
    ids = []
    for field in fields:
        for line in field.splitlines()[1:]:
            parts = line.split(delimiter)
            first = parts[0].strip()
            if len(parts) >= width and first and len(first) <= 64 and not any(c.isspace() for c in first):
                ids.append(first)
    return ", ".join(ids[:3]) + (" ..." if len(ids) > 3 else "")


def _read_json(path: Path) -> list[tuple[str, dict[str, Any]]]:
    try:
        data = json.loads(decode_text(path, path.read_bytes()))
    except json.JSONDecodeError as exc:
        raise ResponsesError(f"{path}: not valid JSON (line {exc.lineno}): {exc.msg}") from None
    except RecursionError:
        raise ResponsesError(f"{path}: not valid JSON (nested too deeply)") from None
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
        answers, notes = {}, []
        for key, value in obj.items():
            if key in ("student_id", "quiz") or key in ignored:
                continue
            if key not in known:
                unknown.setdefault(str(key), where)
                continue
            answers[key] = _as_text(value, f"{where}: {key}").strip()
            if len(answers[key]) > MAX_ANSWER_CHARS:
                note = (f"{where}: the answer to {key} has {len(answers[key])} characters; only the first "
                        f"{MAX_ANSWER_CHARS} are graded")
                log.warning("%s", note)
                notes.append(note)
                answers[key] = answers[key][:MAX_ANSWER_CHARS]
        rows.append(ResponseRow(sid, answers, where, tuple(notes)))
    if unknown:
        names = sorted(unknown)
        raise ResponsesError(f"{path}: unknown question id{'s' if len(names) > 1 else ''} "
                             f"{', '.join(map(repr, names))} (not in quiz {quiz.id!r}; first at {unknown[names[0]]})",
                             hint="fix the column names, or pass --ignore-column NAME for metadata columns")
    if not rows:
        raise ResponsesError(f"{path}: no student rows")
    return rows
