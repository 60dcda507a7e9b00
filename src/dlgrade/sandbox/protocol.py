"""The interface between the grading pipeline and a sandbox: :class:`GradingWorker`."""
from __future__ import annotations

from typing import Protocol, runtime_checkable

from dlgrade.harness.submission import Submission


@runtime_checkable
class GradingWorker(Protocol):
    """Runs notebooks for one grading thread, one submission at a time.

    Implemented by :class:`dlgrade.grade.sandbox.Worker` (bubblewrap) and by the
    tests' in-process stand-in. Made by a factory called with keyword options
    (``course_root``, ``preload``, ``limits``, ``sandbox``, ``device``,
    ``hidden_paths``, ``threads``).
    """

    isolation: str
    """What isolation is in force, in words; starts with ``bubblewrap`` or ``none (UNSANDBOXED``."""

    def open(self, nb, *, student_id: str, time_limit: float, request_timeout: float) -> Submission:
        """Run the (sanitized) notebook ``nb``; the returned submission answers the hidden tests'
        requests until closed. Problems of the student's code never raise here."""

    def close(self) -> None:
        """Stop everything the worker started and remove its files."""
