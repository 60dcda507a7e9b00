"""How the sandbox fails on the grader's side: for the whole batch, or for one submission."""
from __future__ import annotations

from dlgrade.errors import DlgradeError


class SandboxError(DlgradeError):
    """The sandbox cannot start here (not the student's code): grading stops, saying why and what to do."""


class WorkerFailure(Exception):
    """The sandbox failed on one submission, on the grader's side, twice: that submission is marked
    (``grader_error``) and the worker replaced; the batch goes on."""
