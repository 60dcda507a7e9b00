"""Errors that dlgrade reports to its users as one clear line.

Anything raised as a :class:`DlgradeError` is an expected problem with the
user's input or environment (a missing file, a malformed notebook, no network):
the CLI prints its message without a traceback and exits with status 2.
"""
from __future__ import annotations


class DlgradeError(Exception):
    """A known problem, reported to the user as a single line.

    ``hint`` (optional) is printed on a second line, e.g. the command to run.
    """

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        self.hint = hint

    def __str__(self) -> str:  # keep the hint out of str(): callers print it separately
        return self.args[0] if self.args else ""


class DataError(DlgradeError):
    """A dataset could not be found, read or downloaded."""


class SpecError(DlgradeError):
    """A spec file (exercise, thresholds, rubric, quiz) is malformed."""


class SubmissionError(DlgradeError):
    """A submission could not be read as a notebook."""
