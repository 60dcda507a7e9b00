"""The harness: how a hidden test asks the student's code for a function's output
or a trained model's predictions.

See :mod:`dlgrade.harness.submission` for the API tests are written against,
:mod:`dlgrade.harness.questions` for questions and scoring, and
:mod:`dlgrade.harness.ops` for the student side.
"""
from dlgrade.harness.errors import BadOutput, StudentError
from dlgrade.harness.questions import (Checks, CheckResult, Question, QuestionResult,
                                       load_questions, question, run_question)
from dlgrade.harness.submission import CellRun, LocalSubmission, Submission, expect_array
from dlgrade.harness.values import Ref

__all__ = [
    "BadOutput", "CellRun", "CheckResult", "Checks", "LocalSubmission", "Question",
    "QuestionResult", "Ref", "StudentError", "Submission", "expect_array", "load_questions",
    "question", "run_question",
]
