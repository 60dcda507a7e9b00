"""Failures of the grader's own measurements are reported as the grader's, not the student's."""
from __future__ import annotations


def test_a_measurement_that_fails_in_dlgrade_code_is_a_grader_error_flagged_for_review():
    """When dlgrade's describe() fails on a valid object (an uninitialised lazy layer), is the error of kind
    'grader_error', worded as the grader's, and the question held for review?"""
    from torch import nn

    from dlgrade.harness.questions import Question, run_question
    from dlgrade.harness.submission import LocalSubmission

    def body(sub, t):
        sub.describe(sub.call("build"))

    sub = LocalSubmission({"build": lambda: nn.Sequential(nn.Flatten(), nn.LazyLinear(10))})
    result = run_question(Question("q1", 1.0, "counts", body), sub)
    assert result.error["kind"] == "grader_error" and "grader's own measurement" in result.error["message"]
    assert result.needs_review


def test_an_error_in_the_students_code_stays_the_students():
    """Is an exception raised by the notebook's own code still reported as the student's exception?"""
    from dlgrade.harness.submission import LocalSubmission
    from dlgrade.harness.errors import StudentError

    ns: dict = {}
    exec(compile("def build():\n    raise ValueError('broken')\n", "<cell 3>", "exec"), ns)  # noqa: S102
    try:
        LocalSubmission(ns).call("build")
    except StudentError as exc:
        assert exc.kind == "exception" and "cell 3" in exc.message
    else:
        raise AssertionError("no error")
