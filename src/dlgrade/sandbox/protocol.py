"""The typed interfaces of the sandbox.

* :class:`GradingWorker`: what the grading pipeline uses (implemented by
  :class:`dlgrade.sandbox.worker.Worker` and by the tests' in-process stand-in);
* :class:`SubmissionHost`: what a :class:`~dlgrade.sandbox.submission.RemoteSubmission`
  needs from the worker that runs it (implemented by ``Worker``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

from dlgrade.harness.submission import Submission

if TYPE_CHECKING:
    from dlgrade.sandbox.channel import Channel
    from dlgrade.sandbox.limits import Limits
    from dlgrade.sandbox.submission import RemoteSubmission


@runtime_checkable
class GradingWorker(Protocol):
    """Runs notebooks for one grading thread, one submission at a time.

    Implemented by :class:`dlgrade.sandbox.worker.Worker` (bubblewrap) and by the
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


class SubmissionHost(Protocol):
    """What a :class:`~dlgrade.sandbox.submission.RemoteSubmission` needs from the worker that runs it."""

    limits: Limits
    memory_limited: bool

    def spawn(self, sub: RemoteSubmission) -> Channel:
        """A fresh process for ``sub`` (after the previous one, if any, was reaped), connected by two pipes."""

    def reap(self, sub: RemoteSubmission, wait: float) -> dict:
        """Kill ``sub``'s process and everything it started (after ``wait`` seconds); how it ended."""

    def output_so_far(self) -> dict:
        """``{"output", "dropped"}``: what the current process printed so far."""

    def forget(self, sub: RemoteSubmission) -> None:
        """``sub`` is closed."""
