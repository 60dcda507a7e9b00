"""Step 4: run the exercise's hidden tests against the executed notebook.

Each question runs with :func:`dlgrade.harness.questions.run_question`, whose
scoring rule applies: the passed checks' points, capped at the question's
points; an error stops only that question. When a question kills the
student's process (a crash, out of memory, a request that timed out), the
worker's submission runs the notebook again in a fresh process on the next
request, so a crash in one question costs only that question's points.

An unreadable notebook gets every question at 0 with the reason.
"""
from __future__ import annotations

from dlgrade.grade.job import Grading, Job
from dlgrade.harness.context import Context
from dlgrade.harness.models import fix_threads
from dlgrade.harness.notebook import code_cells
from dlgrade.harness.questions import QuestionResult, run_question


def run_tests(job: Job, grading: Grading, worker) -> None:
    if job.nb is None:
        reason = (job.problem or {}).get("message", "the notebook could not be read")
        job.results = [QuestionResult(q.id, q.title, q.points, 0.0, (), {"kind": "not_run", "message": reason})
                       for q in grading.questions]
        return
    ctx = Context(grading.exercise, grading.profile.name, student_id=job.item.student_id, secret=grading.secret)
    ctx.device = str(getattr(worker, "device", None) or "auto")    # where rebuilt networks train, here
    ctx.threads = grading.profile.threads                            # and with how many torch threads
    fix_threads(ctx.threads)                     # all of the grader's numerics here: torch and numpy's BLAS
    job.sub.sources = [c.source for c in code_cells(job.nb)]         # scanned by harness.integrity
    job.results = [run_question(q, job.sub, ctx) for q in grading.questions]
    job.timings["train"] = getattr(ctx, "train_seconds", 0.0)     # networks trained on the grader's side
    job.timings["score"] = getattr(ctx, "score_seconds", 0.0)     # and scored there (part of run_tests)
    for kind, seconds in getattr(job.sub, "seconds", {}).items():   # train, requests, integrity, exchange
        job.timings[kind] = job.timings.get(kind, 0.0) + seconds
