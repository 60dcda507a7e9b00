"""What can go wrong when a hidden test asks the student's code for something.

A :class:`StudentError` raised inside a question stops that question: the
points already earned stand, the rest are lost, and ``message`` (written for
the student) goes into the feedback.
"""
from __future__ import annotations

KINDS = (
    "missing",          # the name is not defined in the notebook
    "not_implemented",  # the stub still raises NotImplementedError
    "exception",        # the student's code raised
    "bad_output",       # wrong type, shape, dtype, NaN, too large, ...
    "timeout",          # the request ran past its time limit
    "crashed",          # the student's process died (sys.exit, os._exit, out of memory, killed)
    "grader_error",     # dlgrade's own code failed while measuring there: not the student's error
)


class StudentError(Exception):
    """The student's code could not answer a request; ``kind`` is one of :data:`KINDS`."""

    def __init__(self, kind: str, message: str, *, detail: str = ""):
        if kind not in KINDS:
            raise ValueError(f"unknown StudentError kind {kind!r}")
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.detail = detail

    def to_dict(self) -> dict:
        return {"kind": self.kind, "message": self.message, "detail": self.detail}

    @classmethod
    def from_dict(cls, d: dict) -> "StudentError":
        kind = d.get("kind") if d.get("kind") in KINDS else "exception"
        return cls(kind, str(d.get("message", ""))[:2000], detail=str(d.get("detail", ""))[:8000])


class BadOutput(StudentError):
    """A value came back in a form the test cannot use (shape, dtype, NaN, type)."""

    def __init__(self, message: str, *, detail: str = ""):
        super().__init__("bad_output", message, detail=detail)
