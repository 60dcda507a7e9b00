"""Step 1: find the submissions, tell whose each is, and read each notebook.

PATHS may be ``.ipynb`` files, folders (searched recursively, checkpoints
skipped) or zips as downloaded from an LMS (see :mod:`.unpack_zip`).

**Student id**, in this order:

1. an LMS file name: Canvas ``name[_LATE]_<user id>_<submission id>_<file>``
   gives the Canvas user id (what Canvas's gradebook import matches on);
   Moodle ``<Full Name>_<id>_assignsubmission_file_<file>`` gives its id;
2. else the notebook's ``metadata.dlgrade.student_id``;
3. else the file name without ``.ipynb``.

The file name wins over the metadata because the LMS wrote it while the
student can edit the metadata.

**Duplicates**: two files with the same student id are never merged. Each file
is graded on its own and reported (gradebook status ``duplicate`` with a blank
score, and a duplicates section in the summary) until the instructor removes
the unwanted file and reruns.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

from dlgrade.errors import DlgradeError, SubmissionError
from dlgrade.grade.job import Grading, Job, SubmissionFile
from dlgrade.grade.keys import file_sha256
from dlgrade.grade.unpack_zip import unpack_zip
from dlgrade.harness.notebook import read_notebook

LMS_PATTERNS = (
    ("canvas", re.compile(r"^(?P<name>[^_]+)_(?:late_)?(?P<id>\d+)_\d+_(?P<file>.+)$", re.I)),
    ("moodle", re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_file_(?P<file>.+)$")),
)
"""(LMS, regex on the file name) tried in order; groups ``id``, ``name``, ``file``."""
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Found:
    """The submissions found under PATHS."""

    files: tuple[SubmissionFile, ...]
    """Sorted by student id, then origin."""
    duplicates: dict
    """Student id -> the origins of their files, for ids with more than one file."""
    ignored: tuple[str, ...]
    """Files left out (zip members that are not notebooks, ...), each with the reason."""


def find_submissions(paths, *, inputs_dir: Path) -> Found:
    """Collect the notebooks under ``paths``; zips are unpacked into ``inputs_dir``."""
    raw: list[tuple[Path, str]] = []
    ignored: list[str] = []
    for given in map(Path, paths):
        if not given.exists():
            raise DlgradeError(f"{given}: no such file or folder")
        if given.is_dir():
            raw += [(p, p.relative_to(given).as_posix()) for p in sorted(given.rglob("*.ipynb"))
                    if p.is_file() and not any(part.startswith(".") for part in p.relative_to(given).parts)]
        elif given.suffix.lower() == ".zip":
            sha = file_sha256(given)[:8]
            unpacked = unpack_zip(given, inputs_dir / f"{_safe(given.stem)}-{sha}")
            raw += [(p, f"{given.name}:{member}") for p, member in unpacked.files]
            ignored += [f"{given.name}:{why}" for why in unpacked.ignored]
        else:
            raw.append((given, given.name))
    seen: set[Path] = set()
    files = []
    for path, origin in raw:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            files.append(identify(path, origin))
    if not files:
        raise DlgradeError(f"no notebooks found in {', '.join(map(str, paths))}",
                           hint="pass .ipynb files, folders of them, or an LMS zip")
    by_id: dict[str, list[SubmissionFile]] = defaultdict(list)
    for f in files:
        by_id[f.student_id].append(f)
    named = []
    for sid, group in by_id.items():
        stem = safe_stem(sid)
        for f in group:
            named.append(replace(f, result_name=stem if len(group) == 1 else f"{stem}-{f.sha256[:8]}"))
    named.sort(key=lambda f: (f.student_id, f.origin))
    dups = {sid: tuple(sorted(f.origin for f in g)) for sid, g in sorted(by_id.items()) if len(g) > 1}
    return Found(tuple(named), dups, tuple(ignored))


def identify(path: Path, origin: str) -> SubmissionFile:
    """Whose notebook ``path`` is, by the rule in the module docstring."""
    sha = file_sha256(path)
    for lms, pattern in LMS_PATTERNS:
        m = pattern.match(path.name)
        if m:
            return SubmissionFile(path, origin, m["id"], lms, sha, name=m["name"])
    sid = _metadata_id(path)
    if sid:
        return SubmissionFile(path, origin, sid, "metadata", sha)
    return SubmissionFile(path, origin, path.name.removesuffix(".ipynb"), "file name", sha)


def _metadata_id(path: Path) -> str | None:
    try:
        data = json.loads(path.read_bytes())
        sid = data["metadata"]["dlgrade"]["student_id"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return sid.strip()[:200] if isinstance(sid, (str, int)) and str(sid).strip() else None


def _safe(text: str) -> str:
    return _SAFE.sub("_", text).strip("._")[:80] or "x"


def safe_stem(student_id: str) -> str:
    """A file-name-safe stem for ``student_id``; ids that needed changes get a short hash (no collisions)."""
    stem = _safe(student_id)
    if stem != student_id:
        stem = f"{stem}-{hashlib.sha256(student_id.encode()).hexdigest()[:6]}"
    return stem


def load_notebook(job: Job, grading: Grading, worker) -> None:
    """Read the notebook; an unreadable one becomes the job's problem, with a message for the student."""
    try:
        job.nb = read_notebook(job.item.path)
    except SubmissionError as exc:
        text = str(exc).replace(str(job.item.path), job.item.path.name)
        job.problem = {"kind": "unreadable", "message": text}
