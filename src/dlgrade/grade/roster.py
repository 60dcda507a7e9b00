"""A class roster: who the students are in the LMS, read from a CSV.

Either a Canvas gradebook export (columns ``Student, ID, SIS User ID, SIS
Login ID, Section``; its ``Points Possible`` row and the Test Student are
skipped) or any CSV with some of: ``student_id, name, canvas_id, sis_user_id,
sis_login_id, section, username, email, idnumber, submitted_at`` (whatever the case,
spaces and underscores: Moodle's ``ID number`` and ``Email address`` too). A graded
student is matched to the roster row where any of these identifiers equals
their dlgrade student id (the Canvas user id from a Canvas file name, the
notebook's metadata id, ...).
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

from dlgrade.errors import DlgradeError
from dlgrade.spreadsheet import csv_text

CANVAS_COLUMNS = {"Student": "name", "ID": "canvas_id", "SIS User ID": "sis_user_id",
                  "SIS Login ID": "sis_login_id", "Section": "section"}
FIELDS = ("student_id", "name", "canvas_id", "sis_user_id", "sis_login_id", "section", "username", "email",
          "idnumber", "submitted_at")
IDENTIFIERS = ("student_id", "canvas_id", "sis_user_id", "sis_login_id", "username", "idnumber", "email")
"""Roster fields a dlgrade student id is matched against, in this order."""
_ALIASES = {"emailaddress": "email"}
"""Column names other tools write (Moodle's participants export: "ID number", "Email address")."""


def field_of(header: str) -> str:
    """The field a column holds: its name whatever the case, spaces, dashes and underscores
    (``ID number`` -> ``idnumber``, ``Student ID`` -> ``student_id``)."""
    key = re.sub(r"[\s_-]+", "", header.lower())
    return _ALIASES.get(key) or next((f for f in FIELDS if f.replace("_", "") == key), header.lower())


@dataclass(frozen=True)
class Roster:
    """The rows of a roster file, each a dict over :data:`FIELDS` ('' when absent)."""

    path: Path
    rows: tuple[dict, ...]
    columns: tuple[str, ...]
    """The fields the file has."""
    _index: dict = field(default_factory=dict, repr=False, compare=False)

    def find(self, student_id: str) -> dict | None:
        """The roster row of ``student_id`` (None when nobody matches)."""
        return self._index.get(str(student_id).strip())


def read_roster(path: Path) -> Roster:
    """Read a roster (see the module docstring); DlgradeError naming the file and row when it is unusable."""
    path = Path(path)
    reader = csv.reader(csv_text(path, what="the roster"))
    header = [h.strip() for h in next(reader, [])]
    canvas = len(header) > 1 and header[0] == "Student" and header[1] == "ID"
    names = [CANVAS_COLUMNS.get(h, "") if canvas else field_of(h) for h in header]
    columns = tuple(n for n in FIELDS if n in names)
    if not any(n in IDENTIFIERS for n in columns):
        raise DlgradeError(f"{path}: the roster has no identifier column",
                           hint=f"give one of: {', '.join(IDENTIFIERS)} (or use a Canvas gradebook export)")
    rows, index = [], {}
    for n, raw in enumerate(reader, start=2):
        if not any(c.strip() for c in raw) or (raw and "Points Possible" in raw[0]):
            continue
        row = {f: "" for f in FIELDS} | {k: v.strip() for k, v in zip(names, raw) if k in FIELDS}
        if canvas and row["name"].lower() in ("student, test", "test student"):
            continue
        rows.append(row)
        for key in IDENTIFIERS:
            value = row.get(key, "")
            if value:
                other = index.setdefault(value, row)
                if other is not row and key in ("student_id", "canvas_id"):
                    raise DlgradeError(f"{path}: row {n}: {key} {value!r} is used by two students")
    return Roster(path, tuple(rows), columns, index)
