"""Reviews as a spreadsheet: export one row per item to review, import the filled-in rows back.

Columns: ``student_id, name, question, points, auto_score, score, comment,
reviewer, reviewed_at, auto_changed, auto, answer``. Staff fill in ``score``
(a number, ``full`` or ``none``) and ``comment``; ``auto`` is the fingerprint
of the automatic result they saw, so a review imported after a regrade changed
that result is marked "auto score changed since review". Importing checks
every row and reports the ones it rejects (unknown student or question, bad
score) and writes only the valid ones; rows with a blank score are skipped.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from dlgrade.atomic import write_atomic
from dlgrade.errors import DlgradeError
from dlgrade.grade.write_gradebook import number, text
from dlgrade.review.store import Review, append_reviews, now, parse_score
from dlgrade.spreadsheet import csv_text

COLUMNS = ["student_id", "name", "question", "points", "auto_score", "score", "comment", "reviewer",
           "reviewed_at", "auto_changed", "auto", "answer"]
REQUIRED = ("student_id", "question", "score")


@dataclass
class Imported:
    """What an import did."""

    added: list = field(default_factory=list)
    """The reviews written."""
    unchanged: int = 0
    """Rows equal to the review already recorded."""
    blank: int = 0
    """Rows without a score (not reviewed)."""
    rejected: list = field(default_factory=list)
    """``"row N: why"`` for each row refused."""

    def describe(self) -> str:
        lines = [f"{len(self.added)} review(s) imported, {self.unchanged} unchanged, {self.blank} without a score, "
                 f"{len(self.rejected)} rejected"]
        lines += [f"  {r}" for r in self.rejected]
        return "\n".join(lines)


def export_csv(items: list[dict], path: Path) -> Path:
    """Write one row per item (see the module docstring) to ``path``."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for it in items:
        r = it["review"] or {}
        writer.writerow([text(it["student_id"]), text(it["name"]), text(it["question"]), number(it["points"]),
                         number(it["auto_earned"]), number(r.get("score")), text(r.get("comment", "")),
                         text(r.get("reviewer", "")), r.get("at", ""), "yes" if r.get("changed") else "",
                         it["auto"], text(it["answer"])])
    return write_atomic(path, buf.getvalue().encode("utf-8"))


def _cell(value) -> str:
    """A cell as typed: the ``'`` that :func:`text` put before a formula-like value is removed."""
    value = (value or "").strip()
    return value[1:] if value[:1] == "'" and value[1:2] in ("=", "+", "-", "@") else value


def import_csv(path: Path, items: list[dict], folder: Path, *, reviewer: str) -> Imported:
    """Read reviews from ``path`` (validated against ``items``) and append the new ones to ``folder``."""
    path = Path(path)
    reader = csv.DictReader(csv_text(path, what="the reviews"))
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise DlgradeError(f"{path}: missing column(s) {', '.join(missing)}",
                           hint="export a template with: dlgrade review EX --out DIR --export reviews.csv")
    by_key = {(it["student_id"], it["question"]): it for it in items}
    result, when = Imported(), now()
    rows = [(n, _cell(row.get("student_id")), _cell(row.get("question")), _cell(row.get("score")), row)
            for n, row in enumerate(reader, start=2)]
    where: dict[tuple, list[int]] = {}
    for n, sid, qid, score, _ in rows:
        if score:
            where.setdefault((sid, qid), []).append(n)
    for n, sid, qid, score, row in rows:
        comment = _cell(row.get("comment"))
        if not score:
            result.blank += 1
            continue
        item = by_key.get((sid, qid))
        if item is None:
            result.rejected.append(f"row {n}: no graded question {qid!r} for student {sid!r} (a student with "
                                   "several files is reviewed once only one is left)")
            continue
        if len(where[(sid, qid)]) > 1:     # which one was meant is not for the grader to guess
            rows_text = ", ".join(map(str, where[(sid, qid)]))
            result.rejected.append(f"row {n}: student {sid!r}, question {qid!r} is scored in rows {rows_text}: "
                                   "none of them is imported")
            continue
        try:
            value = parse_score(score, item["points"], f"row {n}")
        except DlgradeError as exc:
            result.rejected.append(str(exc))
            continue
        old = item["review"]
        if old and old["score"] == value and old["comment"] == comment:
            result.unchanged += 1
            continue
        result.added.append(Review(sid, qid, value, comment, _cell(row.get("reviewer")) or reviewer, when,
                                   item["auto_earned"], _cell(row.get("auto")) or item["auto"]))
    if result.added:
        append_reviews(folder, result.added)
    return result
