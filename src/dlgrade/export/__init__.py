"""Export an exercise to the grading platforms courses already run.

``main("xor", format="nbgrader", out=course_dir)`` writes an nbgrader course
folder; ``format="otter"`` an otter-assign master notebook; ``format="gradescope"``
a Gradescope autograder zip. On every platform each question is graded by the
exercise's own hidden tests (``autograder/<ex>/tests.py``), so the points and
the feedback are those of ``dlgrade grade``. The instructor workflow for each
platform is in ``docs/platforms.md``.
"""
from __future__ import annotations

import re
from pathlib import Path

from dlgrade.errors import DlgradeError

__all__ = ["FORMATS", "main"]

FORMATS = ("nbgrader", "otter", "gradescope")


def main(exercise: str, *, format: str, out: str | Path, course: str | Path | None = None,
         profile: str = "quick", package: str | None = None) -> list[Path]:
    """Export ``exercise`` for the platform ``format``; returns the paths written.

    ``out``: the nbgrader course folder, the folder for the otter master notebook, or the
    Gradescope zip file. ``profile``: the grading profile the platform grades with.
    ``package``: what the otter and Gradescope grading images install to get dlgrade
    (a pip requirement or the path of a wheel; default ``dlgrade==<this version>``).
    """
    from dlgrade.export.parts import read_parts

    if format not in FORMATS:
        raise DlgradeError(f"unknown export format {format!r}", hint=f"use one of: {', '.join(FORMATS)}")
    if package is not None:
        package = _checked_package(package)
    parts = read_parts(exercise, course)
    parts.exercise.profile(profile)  # an unknown profile fails here, with the file and the known ones
    if format == "nbgrader":
        from dlgrade.export.write_nbgrader import write_course

        return write_course(parts, Path(out), profile=profile)
    if format == "otter":
        from dlgrade.export.write_otter import write_master

        return write_master(parts, Path(out), profile=profile, package=package)
    from dlgrade.export.write_gradescope import write_zip

    return write_zip(parts, Path(out), profile=profile, package=package)


def _checked_package(package: str) -> str:
    """``package`` without surrounding spaces, refused if pip would reject it only when the platform builds
    its image: one line of ``requirements.txt``, a PEP 508 requirement (``dlgrade==0.1``,
    ``dlgrade @ https://...``), a URL or the path of a wheel."""
    from packaging.requirements import InvalidRequirement, Requirement

    text = package.strip()
    why = ""
    if not text:
        why = "it is empty"
    elif "\n" in text or "\r" in text:
        why = "it must be one line"
    elif text.endswith(".whl") or re.fullmatch(r"(git\+)?https?://\S+", text):
        return text
    else:
        try:
            Requirement(text)
            return text
        except InvalidRequirement as exc:
            why = str(exc).splitlines()[0]
    raise DlgradeError(f"--package {package!r} is not a pip requirement ({why})",
                       hint="give e.g. dlgrade==0.1.0, 'dlgrade @ https://host/dlgrade.tar.gz' or a .whl file")
