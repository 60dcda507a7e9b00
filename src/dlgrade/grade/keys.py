"""What identifies a grading run: the secret key and the grader version.

Both are derived from the exercise's autograder folder (``autograder/<ex>/``:
hidden tests, thresholds, rubrics), which students never see:

* the **secret** keys each student's held-out subsample
  (:meth:`dlgrade.harness.context.Context.rng`). It is the same every time the
  same autograder folder is used, so grading a folder twice gives identical
  scores; ``$DLGRADE_SECRET`` overrides it.
* the **grader version** (``<dlgrade version>+<12 hex digits>``) changes when
  dlgrade, the autograder folder or the secret changes; the journal uses it to
  decide what must be graded again. It reveals nothing about the secret.
"""
from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

from dlgrade import __version__
from dlgrade.harness.course import Exercise

SECRET_ENV = "DLGRADE_SECRET"
_IGNORED_DIRS = {"samples", "__pycache__"}
_IGNORED_FILES = {"public.py", "mutants.yaml"}   # the students' self-checks and the test corpus: no grade reads them


def autograder_digest(exercise: Exercise) -> bytes:
    """SHA-256 over the names and contents of the autograder folder's files.

    Sample submissions, the public self-checks, the mutant corpus, caches and
    hidden files do not count: editing them does not change anyone's grade, so
    it changes neither the secret nor the grader version.
    """
    h = hashlib.sha256()
    root = exercise.spec_dir
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root)
        if (any(part in _IGNORED_DIRS or part.startswith(".") for part in rel.parts) or path.suffix == ".pyc"
                or rel.as_posix() in _IGNORED_FILES):
            continue
        data = path.read_bytes()
        h.update(f"{rel.as_posix()}\0{len(data)}\0".encode())
        h.update(data)
    return h.digest()


def grading_secret(exercise: Exercise) -> bytes:
    """``$DLGRADE_SECRET`` when set, else a key derived from :func:`autograder_digest`."""
    override = os.environ.get(SECRET_ENV)
    if override:
        return override.encode("utf-8")
    return hmac.new(autograder_digest(exercise), b"dlgrade grading secret", hashlib.sha256).digest()


def grader_version(exercise: Exercise, secret: bytes) -> str:
    """``<dlgrade version>+<digest of autograder folder and secret>``; one-way, safe to write down."""
    h = hashlib.sha256(b"dlgrade grader version\0")
    h.update(autograder_digest(exercise))
    h.update(hashlib.sha256(secret).digest())
    return f"{__version__}+{h.hexdigest()[:12]}"


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
