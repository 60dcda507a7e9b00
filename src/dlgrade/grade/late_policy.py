"""Late submissions: the policy, when each submission came in, and the penalty.

The policy is the ``late`` mapping of ``autograder/<ex>/exercise.yaml``, else
of ``course.yaml`` in the course folder::

    late:
      due: 2026-11-20 23:59        # ISO 8601; without an offset, in `timezone`
      timezone: Europe/Berlin      # default UTC
      grace_minutes: 15            # default 0
      per_day: 10                  # percent of the points off per started day after the grace
      max_penalty: 50              # percent cap (default 100)
      zero_after_days: 7           # optional cut-off: later than this many days scores 0

**When a submission came in**: its ``submitted_at`` from the CSV given with
``dlgrade grade --submitted-at FILE`` (a roster: any identifier column and
``submitted_at``, ISO 8601; without an offset, in the policy's ``timezone``), kept as ``submitted_at.csv`` in the output
folder; else, for a file Canvas marked ``_late_`` without a time, one day
late (the smallest penalty the policy gives). The gradebook shows the raw
score, the penalty and the final score.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dlgrade.errors import SpecError

SUBMITTED_AT = "submitted_at.csv"
FIELDS = {"due", "timezone", "grace_minutes", "per_day", "max_penalty", "zero_after_days"}


@dataclass(frozen=True)
class LatePolicy:
    """How lateness costs points."""

    due: datetime
    """The deadline (timezone-aware)."""
    grace: timedelta = timedelta(0)
    """Time after ``due`` that is still on time."""
    per_day: float = 0.0
    """Percent of the points taken off per started day late."""
    max_penalty: float = 100.0
    """The most percent taken off (before the cut-off)."""
    zero_after_days: float | None = None
    """Later than this many days (after the grace): the score is 0."""
    where: str = ""
    """The file the policy came from."""
    zone: tzinfo = timezone.utc
    """The policy's ``timezone``: a time written without an offset (the deadline, a ``submitted_at``) is in it."""

    def penalty(self, submitted: datetime | None, *, marked_late: bool, points: float) -> tuple[float, str]:
        """(points off, how late in words) for a submission of ``points`` raw points."""
        if submitted is None:
            if not marked_late:
                return 0.0, ""
            days, late_by = 1, "marked late by the LMS, time unknown: counted as 1 day"
        else:
            over = submitted - self.due - self.grace
            if over <= timedelta(0):
                return 0.0, ""
            days = math.ceil(over / timedelta(days=1))
            if self.zero_after_days is not None and over > timedelta(days=self.zero_after_days):
                return round(points, 4), f"{_words(over)} late, after the {self.zero_after_days:g}-day cut-off"
            late_by = f"{_words(over)} late"
        share = min(self.per_day * days, self.max_penalty) / 100.0
        return round(min(points, points * share), 4), late_by


def _words(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    if hours < 1:
        return f"{max(1, math.ceil(delta / timedelta(minutes=1)))} min"
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


def parse_time(value, zone, where: str) -> datetime:
    """A timezone-aware datetime from YAML/CSV ``value`` (naive times are in ``zone``)."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day, 23, 59, 59)
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            raise SpecError(f"{where}: {value!r} is not a date and time (use ISO 8601, e.g. 2026-11-20 23:59)") \
                from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _number(d: dict, key: str, where: str, default, *, low: float = 0, high: float | None = None):
    value = d.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < low or (high is not None
                                                                                       and value > high):
        bound = f"between {low:g} and {high:g}" if high is not None else f"at least {low:g}"
        raise SpecError(f"{where}: late.{key} should be a number {bound}, got {value!r}")
    return float(value)


def policy_from_dict(d, where: str) -> LatePolicy | None:
    """Validate a ``late`` mapping; SpecError naming ``where`` (the file) and the field."""
    if not d:
        return None
    if not isinstance(d, dict):
        raise SpecError(f"{where}: late should be a mapping with at least 'due'")
    unknown = sorted(set(map(str, d)) - FIELDS)
    if unknown:
        raise SpecError(f"{where}: unknown field late.{unknown[0]} (allowed: {', '.join(sorted(FIELDS))})")
    if "due" not in d:
        raise SpecError(f"{where}: late.due is missing (the deadline, e.g. 2026-11-20 23:59)")
    try:
        zone = ZoneInfo(str(d.get("timezone", "UTC")))
    except (ZoneInfoNotFoundError, ValueError):
        raise SpecError(f"{where}: late.timezone {d.get('timezone')!r} is not a known time zone "
                        "(e.g. Europe/Berlin, UTC)") from None
    return LatePolicy(parse_time(d["due"], zone, f"{where}: late.due"),
                      timedelta(minutes=_number(d, "grace_minutes", where, 0)),
                      _number(d, "per_day", where, 0, high=100), _number(d, "max_penalty", where, 100, high=100),
                      _number(d, "zero_after_days", where, None), where, zone)


def load_policy(exercise) -> LatePolicy | None:
    """The exercise's late policy (exercise.yaml, else the course's course.yaml), or None."""
    if getattr(exercise, "late", None):
        return policy_from_dict(exercise.late, str(exercise.spec_dir / "exercise.yaml"))
    course_file = Path(exercise.root) / "course.yaml"
    if course_file.is_file():
        from dlgrade.harness.course import read_yaml

        return policy_from_dict(read_yaml(course_file).get("late"), str(course_file))
    return None


def read_times(folder: Path, zone: tzinfo = timezone.utc) -> dict:
    """Identifier -> submitted_at (aware datetime; a time without an offset is in ``zone``, the late
    policy's timezone, as its deadline is) from ``folder/submitted_at.csv``."""
    path = Path(folder) / SUBMITTED_AT
    if not path.is_file():
        return {}
    from dlgrade.grade.roster import IDENTIFIERS, read_roster

    out = {}
    for n, row in enumerate(read_roster(path).rows, start=2):
        if row.get("submitted_at"):
            moment = parse_time(row["submitted_at"], zone, f"{path}: row {n}: submitted_at")
            for key in IDENTIFIERS:
                if row.get(key):
                    out.setdefault(row[key], moment)
    return out


def check_times(path: Path) -> bytes:
    """The bytes of a submitted_at CSV after checking every row (SpecError naming the file and row)."""
    from dlgrade.grade.roster import read_roster

    roster = read_roster(path)
    if "submitted_at" not in roster.columns:
        raise SpecError(f"{path}: no submitted_at column", hint="columns: student_id (or another id), submitted_at")
    for n, row in enumerate(roster.rows, start=2):
        if row["submitted_at"]:
            parse_time(row["submitted_at"], timezone.utc, f"{path}: row {n}: submitted_at")
    return Path(path).read_bytes()


def unmatched_times(path: Path, student_ids: set) -> list[str]:
    """The rows of a submitted_at CSV (by their first identifier) that name none of ``student_ids``."""
    from dlgrade.grade.roster import IDENTIFIERS, read_roster

    return [next((row[k] for k in IDENTIFIERS if row.get(k)), "(no id)") for row in read_roster(path).rows
            if not any(row.get(k) in student_ids for k in IDENTIFIERS)]


def apply_late(record: dict, policy: LatePolicy | None, times: dict) -> dict:
    """``record`` with ``raw_score``, ``late`` (submitted_at, late_by, penalty) and the score after the penalty."""
    record["raw_score"] = record["score"]
    if policy is None:
        return record
    submitted = times.get(record["student_id"])
    penalty, late_by = policy.penalty(submitted, marked_late=bool(record.get("late_marker")),
                                      points=record["score"])
    record["late"] = {"submitted_at": submitted.isoformat() if submitted else "", "late_by": late_by,
                      "penalty": penalty}
    if penalty:
        record["score"] = round(max(0.0, record["score"] - penalty), 4)
        record["percent"] = round(100.0 * record["score"] / record["max_points"], 2) if record["max_points"] else 0.0
    return record
