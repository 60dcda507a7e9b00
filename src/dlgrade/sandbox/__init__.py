"""The grading sandbox: running untrusted notebooks, and what the grader needs to know about it.

The public interface, in one place::

    GradingWorker        # the Protocol the pipeline uses (Worker and the tests' stand-in implement it)
    Worker, Limits       # bubblewrap zygote per grading thread; per-submission resource limits
    RemoteSubmission     # the grader's end of one sandboxed notebook (a harness Submission)
    SandboxError         # the sandbox cannot start here: stop, say why and what to do
    WorkerFailure        # the sandbox failed on one submission: mark it, use a fresh Worker
    sandbox_problem()    # '' when the sandbox can start here, else why not
    sandbox_available()

The modules, grader's side first:

==================  ==========================================================================
``protocol``        the typed interfaces: ``GradingWorker``, ``SubmissionHost``
``worker``          ``Worker``: one zygote per grading thread, a fresh child per submission
``launch``          the zygote's command line, environment, isolation words; ``sandbox_problem``
``control``         the zygote's process and control socket, seen from the grader
``submission``      ``RemoteSubmission``: requests to the child, restarts, blame for a failure
``channel``         the pipes to a child, with deadlines
``exchange``        arrays and figures in the folder the child can write to
``bwrap``           the bubblewrap command line, staging as root, the probe
``mounts``          what the sandbox sees of the file system
``limits``          ``Limits``, and every cap on what crosses the sandbox's edge
``cgroups``         memory and process limits on a whole sandbox (as root)
``leftovers``       removing what graders that are gone left behind
``errors``          ``SandboxError``, ``WorkerFailure``
``framing``         newline-delimited JSON, the one wire format of all four ends
``processes``       process trees and killing them, the seccomp probe, why a process stopped
``zygote``          inside the sandbox: imports once, forks a child per submission
``child``           inside the sandbox: the student's process, confined
``scratch``         inside the sandbox: emptying the scratch folders
==================  ==========================================================================

The modules used inside the sandbox (``zygote``, ``child``, ``scratch``,
``framing``, ``limits``, ``processes``) import only the standard library, the
harness and ``dlgrade.data``. Names are imported on first use, so importing this
package stays cheap.
"""
from __future__ import annotations

__all__ = ["GradingWorker", "Limits", "RemoteSubmission", "SandboxError", "Worker", "WorkerFailure",
           "sandbox_available", "sandbox_problem"]

_WHERE = {"GradingWorker": "dlgrade.sandbox.protocol", "Limits": "dlgrade.sandbox.limits",
          "RemoteSubmission": "dlgrade.sandbox.submission", "SandboxError": "dlgrade.sandbox.errors",
          "Worker": "dlgrade.sandbox.worker", "WorkerFailure": "dlgrade.sandbox.errors",
          "sandbox_available": "dlgrade.sandbox.launch", "sandbox_problem": "dlgrade.sandbox.launch"}


def __getattr__(name: str):
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'dlgrade.sandbox' has no attribute {name!r}")
