"""Step 1: find the submissions, tell whose each is, and read each notebook.

PATHS may be ``.ipynb`` files, folders (searched recursively, checkpoints
skipped) or zips as downloaded from an LMS (see :mod:`.unpack_zip`).

**Student id**, in this order:

1. an LMS file name: Canvas ``name[_LATE]_<user id>_<submission id>_<file>``
   gives the Canvas user id (what Canvas's gradebook import matches on);
   Moodle ``<Full Name>_<id>_assignsubmission_file_<file>`` gives its id;
2. else the notebook's ``metadata.dlgrade.student_id``, unless another file of
   the batch has that id by its name (then this file keeps its own name);
3. else the file name without ``.ipynb``.

The file name wins over the metadata because the LMS wrote it while the
student can edit the metadata: a notebook that claims another student's id in
its metadata is graded under its own file name, and never turns the other
student's file into a duplicate. An LMS name is read from the file's own name,
whatever folder of a zip it was in. When the file name and the metadata name
different students, or ids look alike (``bоb`` with a Cyrillic ``о`` and
``bob``), the submission carries a note for the instructor (:mod:`.check_ids`).

**Links** (symbolic links to notebooks or folders) are never followed: each is
left out with a message naming it. File names that are not UTF-8 are shown
with their odd bytes read as Latin-1; the file is graded.

**Duplicates**: two files with the same student id are never merged. Each file
is graded on its own and reported (gradebook status ``duplicate`` with a blank
score, and a duplicates section in the summary) until the instructor removes
the unwanted file and reruns.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

from dlgrade.errors import DlgradeError, SubmissionError
from dlgrade.grade.check_ids import check_ids, conflict_note
from dlgrade.grade.job import Grading, Job, SubmissionFile
from dlgrade.grade.keys import file_sha256
from dlgrade.grade.unpack_zip import unpack_zip
from dlgrade.harness.notebook import read_notebook
from dlgrade.harness.strip_outputs import notebook_bytes
from dlgrade.names import readable

LMS_PATTERNS = (
    ("canvas", re.compile(r"^(?P<name>[^_]+)_(?P<late>late_)?(?P<id>\d+)_\d+_(?P<file>.+)$", re.I)),
    ("moodle", re.compile(r"^(?P<name>.+?)_(?P<id>\d+)_assignsubmission_file_(?P<file>.+)$")),
)
"""(LMS, regex on the file name) tried in order; groups ``id``, ``name``, ``file``."""
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
LINK_REFUSED = "a symbolic link; links are never followed (copy the file itself if it is a submission)"


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
    """Collect the notebooks under ``paths``; zips are unpacked into ``inputs_dir``.

    A bad input (a link, a zip that cannot be read, a zip bomb) is left out with the
    reason in ``ignored``; the rest is graded. Only a path that does not exist, or
    inputs without a single notebook, stop here.
    """
    raw: list[tuple[Path, str, str]] = []  # (file, origin, the name its student is read from)
    ignored: list[str] = []
    for given in map(Path, paths):
        shown = readable(str(given))
        if given.is_symlink() and not given.is_dir():
            ignored.append(f"{shown}: {LINK_REFUSED}")
            continue
        if not given.exists():
            raise DlgradeError(f"{shown}: no such file or folder")
        if given.is_dir():
            files, skipped = _walk(given, skip=inputs_dir)
            raw += [(p, readable(p.relative_to(given).as_posix()), p.name) for p in files]
            ignored += skipped
        elif not given.is_file():
            ignored.append(f"{shown}: not a regular file")
        elif given.suffix.lower() == ".zip":
            zip_name = readable(given.name)
            try:
                sha = file_sha256(given)[:8]
                unpacked = unpack_zip(given, inputs_dir / f"{_safe(given.stem)}-{sha}")
            except SubmissionError as exc:
                ignored.append(str(exc).replace(str(given), zip_name))
                continue
            except OSError as exc:
                ignored.append(f"{zip_name}: cannot be read ({exc.strerror})")
                continue
            raw += [(p, f"{zip_name}:{member}", _lms_name(member)) for p, member in unpacked.files]
            ignored += [f"{zip_name}:{why}" for why in unpacked.ignored]
        else:
            raw.append((given, readable(given.name), given.name))
    seen: set[Path] = set()
    unique = []
    for path, origin, name in raw:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            unique.append((path, origin, name))
    files = [identify(path, origin, name=name) for path, origin, name in unique]
    named = {f.student_id for f in files if f.id_source != "metadata"}
    claims: dict[str, list[str]] = defaultdict(list)     # id -> the files whose metadata claims it
    for f in files:
        if f.id_source == "metadata" and f.student_id in named:
            claims[f.student_id].append(f.origin)
    for k, (f, (path, origin, name)) in enumerate(zip(files, unique)):
        if f.student_id not in claims:
            continue
        if f.id_source == "metadata":           # graded under its own file name
            files[k] = identify(path, origin, name=name, named=named)
        else:                                    # the file whose id was claimed: flagged for a look too
            files[k] = replace(f, notes=f.notes + (f"the metadata of {', '.join(claims[f.student_id])} also "
                                                   f"says student {f.student_id!r}; check which file is theirs",))
    if not files:
        why = f" ({len(ignored)} input(s) left out: {'; '.join(ignored[:3])})" if ignored else ""
        raise DlgradeError(f"no notebooks found in {', '.join(readable(str(p)) for p in paths)}{why}"[:1000],
                           hint="pass .ipynb files, folders of them, or an LMS zip")
    files = check_ids(files)
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


def _walk(folder: Path, *, skip: Path) -> tuple[list[Path], list[str]]:
    """The notebooks under ``folder`` (hidden files and folders, and ``skip``: where zips are unpacked, skipped),
    and what was left out and why.

    Links are never followed: a notebook or a folder that is a symbolic link is
    refused by name (an archive unpacked by ``unzip`` or ``tar`` keeps the links
    a student put in it, e.g. to the solution notebook).
    """
    files, ignored = [], []
    skip = skip.resolve()

    def unreadable(exc: OSError) -> None:
        ignored.append(f"{readable(str(exc.filename))}: cannot be read ({exc.strerror})")

    for root, dirs, names in os.walk(folder, onerror=unreadable, followlinks=False):
        here = Path(root)
        kept = []
        for d in sorted(dirs):
            if d.startswith("."):
                continue
            if (here / d).is_symlink():
                ignored.append(f"{readable((here / d).relative_to(folder).as_posix())}: a link to a folder; "
                               f"{LINK_REFUSED}")
            elif (here / d).resolve() != skip:
                kept.append(d)
        dirs[:] = kept
        for name in sorted(names):
            if name.lower().endswith(".zip") and not name.startswith("."):
                ignored.append(f"{readable((here / name).relative_to(folder).as_posix())}: a zip inside a folder is "
                               f"not unpacked (pass the zip itself to grade its notebooks)")
                continue
            if name.startswith(".") or not name.lower().endswith(".ipynb"):
                continue
            path = here / name
            shown = readable(path.relative_to(folder).as_posix())
            try:
                mode = path.lstat().st_mode
            except OSError as exc:
                ignored.append(f"{shown}: cannot be read ({exc.strerror})")
                continue
            if stat.S_ISLNK(mode):
                ignored.append(f"{shown}: {LINK_REFUSED}")
            elif not stat.S_ISREG(mode):
                ignored.append(f"{shown}: not a regular file")
            else:
                files.append(path)
    return sorted(files), ignored


def _lms_name(member: str) -> str:
    """The name an LMS gave a zip member: its own name (Canvas: ``name_<id>_<sub>_file.ipynb``, whatever folder
    it is in), or its folder's and its own together (Moodle: ``Full Name_<id>_assignsubmission_file_/x.ipynb``)."""
    parts = member.replace("\\", "/").rstrip("/").split("/")
    if len(parts) > 1 and "_assignsubmission_" in parts[-2]:
        return parts[-2] + parts[-1]
    return parts[-1]


def identify(path: Path, origin: str, *, name: str | None = None, named: frozenset | set = frozenset()) -> SubmissionFile:
    """Whose notebook ``path`` is, by the rule in the module docstring.

    ``name`` is the file name the LMS wrote (a zip member's base name; default:
    ``path.name``): LMS ids are parsed from it, whatever folder it was in.
    ``named``: the ids other files have by their names; a metadata id among them
    is not used (the student who has that name keeps it).
    """
    try:
        sha = file_sha256(path)
    except OSError:  # the notebook step reports it as unreadable
        sha = hashlib.sha256(b"").hexdigest()
    meta = _metadata_id(path)
    notes = []
    shown = readable(name if name is not None else path.name)
    if shown != (name if name is not None else path.name):
        notes.append(f"the file name is not valid UTF-8; shown as {shown!r}")
    for candidate in dict.fromkeys((shown, readable(path.name))):
        for lms, pattern in LMS_PATTERNS:
            m = pattern.match(candidate)
            if m:
                notes.append(conflict_note(m["id"], lms, meta, m["id"]))
                return SubmissionFile(path, origin, m["id"], lms, sha, name=m["name"],
                                      late=bool(m.groupdict().get("late")), notes=tuple(n for n in notes if n))
    stem = readable(path.name[:-len(".ipynb")] if path.name.lower().endswith(".ipynb") else path.name)
    if meta in named:
        notes.append(f"the notebook's metadata says student {meta!r}, whose own file is in the batch; graded "
                     f"under its file name, as {stem!r}")
        return SubmissionFile(path, origin, stem, "file name", sha, notes=tuple(notes))
    if meta:
        notes.append(conflict_note(stem, "file name", meta, meta))
        return SubmissionFile(path, origin, meta, "metadata", sha, notes=tuple(n for n in notes if n))
    return SubmissionFile(path, origin, stem, "file name", sha, notes=tuple(notes))


def _metadata_id(path: Path) -> str | None:
    try:
        data = json.loads(notebook_bytes(path))  # a large notebook without its outputs
        sid = data["metadata"]["dlgrade"]["student_id"]
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return None
    if not isinstance(sid, (str, int)) or isinstance(sid, bool) or not str(sid).strip():
        return None
    return readable(str(sid).strip()[:200])


def _safe(text: str) -> str:
    return _SAFE.sub("_", text).strip("._")[:80] or "x"


def safe_stem(student_id: str) -> str:
    """A file-name-safe stem for ``student_id``; ids that needed changes get a short hash (no collisions)."""
    stem = _safe(student_id)
    if stem != student_id:
        stem = f"{stem}-{hashlib.sha256(student_id.encode('utf-8', 'surrogatepass')).hexdigest()[:6]}"
    return stem


def load_notebook(job: Job, grading: Grading, worker) -> None:
    """Read the notebook; an unreadable one becomes the job's problem, with a message for the student."""
    try:
        job.nb = read_notebook(job.item.path)
    except SubmissionError as exc:
        text = readable(str(exc).replace(str(job.item.path), job.item.origin))
        job.problem = {"kind": "unreadable", "message": text}
