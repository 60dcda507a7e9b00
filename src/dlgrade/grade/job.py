"""The state that flows through the grading steps.

:class:`Grading` is what every submission of a batch is graded with (built
once); :class:`Job` is one submission on its way through the steps of
:data:`dlgrade.grade.pipeline.STEPS`, each of which reads and fills some of its
fields. A step never raises for a problem with the student's notebook: it
records it (``problem``, ``messages``) and the later steps grade what still
stands.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dlgrade.harness.course import Exercise, Profile
from dlgrade.harness.questions import Question, QuestionResult
from dlgrade.harness.submission import CellRun, Submission


@dataclass(frozen=True)
class SubmissionFile:
    """One notebook file to grade, and whose it is."""

    path: Path
    """The notebook on disk (inside ``<out>/inputs/`` when it came from a zip)."""
    origin: str
    """The file as shown in reports: its name (relative to the folder it was found in), or ``archive.zip:member``."""
    student_id: str
    """From the LMS file name, else the notebook's ``metadata.dlgrade.student_id``, else the file name."""
    id_source: str
    """Where ``student_id`` came from: ``"canvas"``, ``"moodle"``, ``"metadata"`` or ``"file name"``."""
    sha256: str
    """Of the file's bytes; part of the journal key."""
    name: str = ""
    """The student's name as the LMS wrote it in the file name ('' when unknown)."""
    result_name: str = ""
    """Stem of this submission's output files (``results/<result_name>.json``)."""
    late: bool = False
    """The LMS marked the file late (Canvas's ``_late_`` in the file name); see :mod:`.late_policy`."""
    notes: tuple[str, ...] = ()
    """What the instructor should check about whose file this is (look-alike ids, a file name and metadata
    naming different students, a file name that is not UTF-8); see :mod:`.check_ids`."""


@dataclass(frozen=True)
class Grading:
    """What every submission of one batch is graded with."""

    exercise: Exercise
    profile: Profile
    questions: tuple[Question, ...]
    """The hidden tests' graded questions, in file order."""
    template: object
    """The exercise's student notebook (locked cells are restored from it)."""
    secret: bytes
    grader: str
    """Grader version (see :mod:`dlgrade.grade.keys`)."""
    out: Path
    """This exercise's output folder, ``<out>/<exercise id>``."""
    data: dict = field(default_factory=dict)
    """Per dataset of the profile: its load options and where its numbers came from (source, location)."""

    @property
    def max_points(self) -> float:
        return sum(q.points for q in self.questions)


@dataclass
class Job:
    """One submission on its way through the steps."""

    item: SubmissionFile
    nb: object = None
    """The notebook once loaded (None when it could not be read)."""
    problem: dict | None = None
    """``{"kind", "message"}`` when the notebook could not be read or run at all."""
    messages: list[str] = field(default_factory=list)
    """Notes for the student about their notebook (restored cells, removed shell commands)."""
    sub: Submission | None = None
    """The executed notebook (a sandboxed RemoteSubmission), open until the steps end."""
    cells: list[CellRun] = field(default_factory=list)
    results: list[QuestionResult] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)
    """PNG files kept from the run, relative to the output folder."""
    question_figures: dict = field(default_factory=dict)
    """Question id -> [{"caption", "path"}]: PNGs a hidden test drew for the feedback (relative paths)."""
    timings: dict[str, float] = field(default_factory=dict)
    isolation: str = ""
    """How the notebook was isolated (the worker's description)."""
    worker_broken: bool = False
    """The worker failed in a way that needs a fresh one for the next submission."""
    record: dict | None = None
    """The result as written to ``results/<name>.json`` (set by the score step)."""
