"""Step 3: run the notebook's cells in the sandboxed worker.

The worker runs the sanitized notebook's code cells (training and self-check
cells are skipped) under the profile's time limit and answers the hidden
tests' requests. When the notebook cannot run at all (the worker reports a
crash or refuses it), the job gets a :class:`DeadSubmission`: every request
fails with the reason, while the short answers, read here from the notebook's
Markdown, are still graded. When the worker itself fails, the submission is
flagged ``grader_error`` and the worker replaced; when the sandbox cannot
start at all (a :class:`~dlgrade.errors.DlgradeError`), the batch stops: a
gradebook of zeros would be worse than none.
"""
from __future__ import annotations

import logging

from dlgrade.errors import DlgradeError
from dlgrade.grade.job import Grading, Job
from dlgrade.harness.errors import StudentError
from dlgrade.harness.notebook import short_answers
from dlgrade.harness.submission import Submission
from dlgrade.harness.values import MemoryStore

log = logging.getLogger(__name__)


class DeadSubmission(Submission):
    """A submission whose notebook could not run: every request raises ``StudentError(kind, reason)``."""

    def __init__(self, kind: str, reason: str, **kwargs):
        super().__init__(**kwargs)
        self._error = StudentError(kind, reason)
        self._memory = MemoryStore()

    def _store(self):
        return self._memory

    def _send(self, op: str, fields: dict, timeout: float):
        raise self._error

    def close(self) -> None:
        pass


def open_submission(job: Job, grading: Grading, worker):
    """Run the notebook in ``worker``; a :class:`DeadSubmission` saying why when it cannot run."""
    profile = grading.profile
    try:
        return worker.open(job.nb, student_id=job.item.student_id, time_limit=profile.time_limit,
                           request_timeout=profile.request_timeout)
    except StudentError as exc:
        reason = f"the notebook could not run: {exc.message}"
        kind = problem = exc.kind
    except DlgradeError:  # the sandbox cannot start here: a problem of this machine, not of the notebook
        raise
    except Exception as exc:  # noqa: BLE001 - a worker failure costs this submission, not the batch
        log.warning("worker failed on %s: %s: %s", job.item.origin, type(exc).__name__, exc)
        job.worker_broken = True
        reason = f"the grader could not run the notebook ({type(exc).__name__}: {exc})"[:500]
        kind, problem = "crashed", "grader_error"
    job.problem = {"kind": problem, "message": reason}
    return DeadSubmission(kind, reason, markdown_answers=short_answers(job.nb),
                          timeout=profile.request_timeout)


def execute_notebook(job: Job, grading: Grading, worker) -> None:
    if job.nb is None:
        return
    job.isolation = str(getattr(worker, "isolation", ""))
    job.sub = open_submission(job, grading, worker)
    job.cells = list(job.sub.cells)
