"""Reviews: an instructor's score and comment for one flagged answer, kept in ``reviews.jsonl``.

Each review is one JSON line in ``<out>/<exercise>/reviews.jsonl``::

    {"student_id": "12345", "question": "q6", "score": 1.5, "comment": "...",
     "reviewer": "ana", "at": "2026-11-30T06:01:02Z", "auto_earned": 0.9, "auto": "<fingerprint>"}

The file is only ever appended to (a new version replaces the whole file
atomically, so a reader sees the old file or the new one; writers take a lock
on ``.reviews.lock`` in turn), and the latest line
for a (student, question) wins. Grading never writes it, so a regrade keeps
every review. ``auto`` fingerprints the automatic result the reviewer saw
(earned points, checks, error, the student's answer): when a regrade changes
it, the review still counts but is marked "auto score changed since review".
"""
from __future__ import annotations

import copy
import fcntl
import hashlib
import json
import threading
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from dlgrade.atomic import write_atomic
from dlgrade.errors import DlgradeError

REVIEWS = "reviews.jsonl"
CHANGED = "auto score changed since review"
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Review:
    """An instructor's verdict on one question of one student."""

    student_id: str
    question: str
    score: float
    """Points given (replaces the automatic points of the question)."""
    comment: str = ""
    """Shown to the student on the feedback page."""
    reviewer: str = ""
    at: str = ""
    """When, ISO 8601 UTC."""
    auto_earned: float = 0.0
    """The automatic points when the review was made."""
    auto: str = ""
    """Fingerprint of the automatic result when the review was made (see :func:`fingerprint`)."""


def now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def fingerprint(question: dict, answer: str = "") -> str:
    """A short hash of what the grader decided about ``question`` (a result record's question) and the answer."""
    part = {"earned": question.get("earned"), "checks": question.get("checks"), "error": question.get("error"),
            "answer": answer}
    return hashlib.sha256(json.dumps(part, sort_keys=True, default=str).encode("utf-8")).hexdigest()[:16]


def parse_score(value, points: float, where: str) -> float:
    """``full`` -> points, ``none`` -> 0, or a number in [0, points]; DlgradeError naming ``where`` otherwise
    (also for no score at all: a missing value is never read as 0)."""
    if value is None or isinstance(value, bool):
        raise DlgradeError(f"{where}: no score given (a number, 'full' or 'none')")
    text = str(value).strip().lower()
    if text in ("full", "f"):
        return float(points)
    if text in ("none", "zero", "n"):
        return 0.0
    try:
        score = float(text)
    except ValueError:
        raise DlgradeError(f"{where}: score {value!r} is not a number, 'full' or 'none'") from None
    if not 0 <= score <= points:
        raise DlgradeError(f"{where}: score {score:g} is outside 0..{points:g}")
    return round(score, 4)


def read_reviews(folder: Path) -> dict[tuple[str, str], Review]:
    """(student id, question) -> its latest review; torn or malformed lines are skipped."""
    try:
        lines = (Path(folder) / REVIEWS).read_bytes().split(b"\n")
    except FileNotFoundError:
        return {}
    out = {}
    for line in lines:
        try:
            data = json.loads(line)
            review = Review(**{k: data[k] for k in Review.__dataclass_fields__ if k in data})
            review = Review(str(review.student_id), str(review.question), float(review.score), str(review.comment),
                            str(review.reviewer), str(review.at), float(review.auto_earned), str(review.auto))
        except (ValueError, TypeError, KeyError):
            continue
        out[(review.student_id, review.question)] = review
    return out


def append_reviews(folder: Path, reviews: list[Review]) -> Path:
    """Add ``reviews`` to ``folder/reviews.jsonl`` in one atomic replacement of the file."""
    path = Path(folder) / REVIEWS
    path.parent.mkdir(parents=True, exist_ok=True)
    with _LOCK, open(path.parent / ".reviews.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another review server or an import at the same time waits
        try:
            old = path.read_bytes()
        except FileNotFoundError:
            old = b""
        if old and not old.endswith(b"\n"):
            old += b"\n"
        new = b"".join(json.dumps(asdict(r), sort_keys=True).encode("utf-8") + b"\n" for r in reviews)
        return write_atomic(path, old + new)


def apply_reviews(record: dict, reviews: dict) -> dict:
    """A copy of a result ``record`` with the reviewed questions' points replaced and the score recomputed.

    Each reviewed question gets ``review`` (score, comment, reviewer, at,
    ``changed``) and ``auto_earned``; ``needs_review`` keeps the questions not
    reviewed yet and those whose automatic result changed since their review.
    """
    out = copy.deepcopy(record)
    sid = out["student_id"]
    pending = []
    touched = False
    for q in out["questions"]:
        review = reviews.get((sid, q["id"]))
        if review is None:
            if q["id"] in record.get("needs_review", ()):
                pending.append(q["id"])
            continue
        touched = True
        changed = review.auto != fingerprint(q, out.get("answers", {}).get(q["id"], ""))
        q["auto_earned"] = q["earned"]
        q["earned"] = min(float(q["points"]), review.score)
        q["needs_review"] = changed
        q["review"] = {"score": review.score, "comment": review.comment, "reviewer": review.reviewer,
                       "at": review.at, "changed": changed}
        if changed:
            pending.append(q["id"])
    if touched:
        out["score"] = round(sum(q["earned"] for q in out["questions"]), 4)
        out["percent"] = round(100.0 * out["score"] / out["max_points"], 2) if out["max_points"] else 0.0
    out["needs_review"] = pending + [x for x in record.get("needs_review", ()) if x == "(notebook)"]
    return out
