"""The grading sandbox: running untrusted notebooks, and what the grader needs to know about it.

The public interface, in one place::

    GradingWorker        # the Protocol the pipeline uses (Worker and the tests' stand-in implement it)
    Worker, Limits       # bubblewrap zygote per grading thread; per-submission resource limits
    SandboxError         # the sandbox cannot start here: stop, say why and what to do
    WorkerFailure        # the sandbox failed on one submission: mark it, use a fresh Worker
    sandbox_problem()    # '' when the sandbox can start here, else why not
    sandbox_available()

Newline-JSON framing, shared by the grader, the zygote and the submission's
process: :mod:`dlgrade.sandbox.framing`. The rest of the implementation lives in :mod:`dlgrade.grade.sandbox` (the Worker),
:mod:`dlgrade.grade.remote` (the grader's end of a submission),
:mod:`dlgrade.grade.worker` and :mod:`dlgrade.grade.child` (the sandboxed side),
:mod:`dlgrade.grade.bwrap`, :mod:`dlgrade.grade.limits` and
:mod:`dlgrade.grade.leftovers`. Names are imported on first use, so importing this
package stays cheap.
"""
from __future__ import annotations

__all__ = ["GradingWorker", "Limits", "SandboxError", "Worker", "WorkerFailure", "sandbox_available",
           "sandbox_problem"]

_WHERE = {"GradingWorker": "dlgrade.sandbox.protocol", "Limits": "dlgrade.grade.limits", "WorkerFailure": "dlgrade.grade.remote",
          "SandboxError": "dlgrade.grade.sandbox", "Worker": "dlgrade.grade.sandbox",
          "sandbox_available": "dlgrade.grade.sandbox", "sandbox_problem": "dlgrade.grade.sandbox"}


def __getattr__(name: str):
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'dlgrade.sandbox' has no attribute {name!r}")
