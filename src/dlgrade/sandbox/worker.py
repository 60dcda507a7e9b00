"""Running student notebooks in a sandbox: :class:`Worker`.

A Worker is one long-lived process (the *zygote*, :mod:`dlgrade.sandbox.zygote`)
that imports torch, numpy, scikit-learn, matplotlib and the harness once and
loads the ``preload`` datasets (``(name, options)`` pairs for
``dlgrade.data.load``; a bare string names an extra module to import). Each
:meth:`Worker.open` forks a fresh child from it (:mod:`dlgrade.sandbox.child`)
that runs the notebook's code cells (``run_cells`` semantics: skipped roles
skipped, magics stripped, an error per cell, the wall-clock ``time_limit``) and
then answers the hidden tests' requests, each within ``request_timeout`` seconds
unless the test gives its own; the grader's end is a
:class:`~dlgrade.sandbox.submission.RemoteSubmission`. Its ``figures`` are PNG
copies, in a grader-owned folder, of the figures left open (at most
:data:`~dlgrade.sandbox.limits.MAX_FIGURES`), removed when the submission
closes; ``markdown_answers`` are read from ``nb`` here, not by the child.
Problems of the student's code never raise from :meth:`Worker.open`: they are in
``cells``, and later requests raise :class:`~dlgrade.harness.errors.StudentError`
(``timeout``, ``crashed``, ...). One submission is open at a time per Worker
(opening another closes the previous one); use one Worker per grading thread.
The zygote dies with the thread that created the Worker (Linux parent-death
signal). ``hidden_paths`` must exist when the Worker starts (a missing one is
logged and stays visible).

Isolation (``isolation`` says what was in force; docs/security.md has the
whole list): bubblewrap around the zygote (:mod:`dlgrade.sandbox.bwrap`), with
an allow-list view of the file system (:mod:`dlgrade.sandbox.mounts`), run as
user ``nobody`` when the grader is root; a cgroup per Worker for memory and
processes (:mod:`dlgrade.sandbox.cgroups`), else ``RLIMIT_AS`` (CPU jobs only);
per child rlimits (:mod:`dlgrade.sandbox.limits`), a new session and a seccomp
filter; between submissions everything else in the sandbox is killed and the
scratch folders emptied; a zygote that hangs or dies is replaced.

The Worker fails closed: with ``sandbox="bwrap"`` (or its synonym ``"auto"``)
a sandbox that cannot start is a :class:`SandboxError` saying why and what to do.
Only ``sandbox="none"``, asked for by name, runs student code unsandboxed; the
isolation string then starts with ``none (UNSANDBOXED)`` and a warning is logged.

Every file, folder and cgroup a Worker makes carries the grader's pid in its
name; a new Worker removes those of graders that are gone
(:mod:`dlgrade.sandbox.leftovers`).
"""
from __future__ import annotations

import logging
import os
import socket
import tempfile
import weakref
from collections.abc import Sequence
from pathlib import Path

from dlgrade.data import write_sandbox_views
from dlgrade.harness.notebook import code_cells, short_answers
from dlgrade.sandbox import bwrap, launch
from dlgrade.sandbox.cgroups import Cgroup
from dlgrade.sandbox.channel import Channel
from dlgrade.sandbox.control import ZygoteLost, ZygoteProcess
from dlgrade.sandbox.errors import SandboxError, WorkerFailure
from dlgrade.sandbox.exchange import make_exchange, submission_folder
from dlgrade.sandbox.leftovers import remove_leftovers
from dlgrade.sandbox.limits import Limits
from dlgrade.sandbox.mounts import COURSE_PRIVATE, SANDBOX_BOX, plan_mounts, visible_paths
from dlgrade.sandbox.submission import RemoteSubmission

log = logging.getLogger(__name__)

__all__ = ["Limits", "RemoteSubmission", "SandboxError", "Worker", "WorkerFailure"]


class Worker:
    """One long-lived sandboxed process that imports torch/numpy/sklearn once and forks a fresh
    child per submission. See the module docstring."""

    startup_timeout = 300.0
    """Seconds for the zygote to import and preload."""
    control_timeout = 20.0
    """Seconds for the zygote to answer a command before it is considered hung."""

    def __init__(self, *, course_root: Path | None, preload: Sequence = (), limits: Limits = Limits(),  # noqa: B008
                 sandbox: str = "auto", device: str = "auto", hidden_paths: Sequence[Path] = (),
                 threads: int = 1, visible_paths: Sequence[Path] = (), huge_pages: bool = False):
        if sandbox not in ("auto", "bwrap", "none"):
            raise ValueError(f"sandbox should be 'bwrap' or 'none', got {sandbox!r}")
        if not isinstance(threads, int) or isinstance(threads, bool) or threads < 1:
            raise ValueError(f"threads should be a positive integer, got {threads!r}")
        remove_leftovers()
        self.course_root = Path(course_root) if course_root is not None else None
        self.threads = threads
        """torch (and BLAS) threads of each submission: fixed, so measurements do not depend on the machine."""
        self.limits = limits
        self.device = device
        self.huge_pages = huge_pages
        """Whether the zygote moves its memory to huge pages once started (``sandbox.hugepages``): about a
        second more to start, then cheaper forks and exits; for batches, not for one notebook."""
        self._datasets, self._modules = launch.split_preload(preload)
        self._hidden = [Path(p) for p in hidden_paths]
        self._ids = bwrap.sandbox_ids()
        self._views = write_sandbox_views(self._datasets)   # the student's part of the data files: all it sees
        self._visible = _visible(launch.needed_paths(), self.course_root, visible_paths)
        reason = "--sandbox none was given" if sandbox == "none" else bwrap.probe(
            self._ids, launch.PYTHON, tuple(map(str, self._visible)))
        if reason and sandbox != "none":
            raise SandboxError(f"the grading sandbox cannot start: {reason}", hint=bwrap.remedy(reason))
        self.sandboxed = not reason
        self._gpu = sorted(str(p) for p in Path("/dev").glob("nvidia*")) if device != "cpu" else []
        self._zygote = ZygoteProcess()
        self._finalizer = weakref.finalize(self, self._zygote.release)
        self._zygote.cgroup = cg = Cgroup.create()
        self.memory_limited = bool(cg and "memory" in cg.dirs) or not self._gpu
        """Whether the submission's memory is limited (a cgroup, or RLIMIT_AS on CPU jobs)."""
        self._tmp = Path(tempfile.mkdtemp(prefix=f"dlgrade-worker-{os.getpid()}-"))  # the grader's: log, figures
        self._zygote.dirs.append(self._tmp)
        # the exchange folder (a folder per submission, bound into the sandbox); a file bound over hidden ones
        self.box, self._empty = make_exchange(on_shm=bool(cg and "memory" in cg.dirs))
        self._zygote.dirs.append(self.box.parent)
        self._ready: dict | None = None
        self._was_ready = False
        self._count = 0
        self._current: RemoteSubmission | None = None
        self._closed = False
        self.isolation = launch.describe_isolation(reason=reason, sandboxed=self.sandboxed, cgroup=cg,
                                                   gpu=bool(self._gpu), as_user=self._ids is not None)
        if not self.sandboxed:
            log.warning("grading without a sandbox: %s", self.isolation)
        self._launch()

    # -- the GradingWorker interface --------------------------------------------------------------
    def open(self, nb, *, student_id: str, time_limit: float, request_timeout: float) -> RemoteSubmission:
        """Run the (sanitized) notebook ``nb`` in a fresh child; see the module docstring."""
        if self._closed:
            raise SandboxError("this worker is closed")
        if self._current is not None:
            self._current.close()
        self._count += 1
        folder = submission_folder(self.box / f"s{self._count}", self._ids if self.sandboxed else None)
        cells = [{"index": c.index, "id": c.cell_id, "role": c.role, "source": c.source} for c in code_cells(nb)]
        sub = RemoteSubmission(self, folder=folder, cells=cells, time_limit=time_limit,
                               request_timeout=request_timeout, markdown_answers=short_answers(nb),
                               student_id=student_id, figures_dir=self._tmp / "figures" / f"s{self._count}")
        self._current = sub
        try:
            sub.start()
        except BaseException:
            sub.close()
            raise
        return sub

    def close(self) -> None:
        """Close the open submission, stop the zygote and its sandbox, remove the worker's files."""
        if self._closed:
            return
        self._closed = True
        try:
            if self._current is not None:
                self._current.close()
            if self._ready is not None and self._zygote.running:
                try:
                    self._control({"cmd": "exit"}, timeout=5, wait_ready=False)
                except ZygoteLost:
                    pass
        finally:
            self._finalizer()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def zygote_pid(self) -> int | None:
        """The pid of the zygote's sandbox (bwrap, or the zygote itself unsandboxed), while it runs."""
        proc = self._zygote.proc
        return proc.pid if proc is not None else None

    @property
    def huge_pages_mb(self) -> int:
        """How much of the zygote's memory the kernel moved to huge pages (0 before it is ready)."""
        return int((self._ready or {}).get("huge_pages_mb", 0))

    # -- the zygote ---------------------------------------------------------------------------------
    def _launch(self) -> None:
        """Start the zygote (it imports in the background; :meth:`_wait_ready` waits for it)."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        config = {"sandboxed": self.sandboxed, "preload": self._datasets, "modules": self._modules,
                  "threads": self.threads, "huge_pages": self.huge_pages}
        env = launch.zygote_env(sandboxed=self.sandboxed, scratch=self._tmp, threads=self.threads, views=self._views)
        if self.sandboxed:
            private = [self.course_root / name for name in COURSE_PRIVATE] if self.course_root else []
            mounts = plan_mounts(visible=self._visible, hidden=self._hidden, private=private,
                                 box=self.box, empty=self._empty, tmp_bytes=self.limits.memory_bytes)
            for warning in mounts.warnings:
                log.warning("sandbox: %s", warning)
            stage = bwrap.staging(self._visible, self._ids, self._tmp)
            cmd = bwrap.command(python=launch.PYTHON, script=str(launch.ZYGOTE_SCRIPT), control_fd=theirs.fileno(),
                                config=config, env=env, mounts=mounts, ids=self._ids, stage=stage,
                                gpu_devices=self._gpu)
            env = launch.HOST_PATH
        else:
            cmd = launch.unsandboxed_command(control_fd=theirs.fileno(), config=config)
        cg = self._zygote.cgroup
        if cg is not None:
            cg.limit(memory_bytes=None, pids=None)  # the zygote's own imports are trusted
        self._zygote.start(launch.in_cgroup(cmd, cg), ours=ours, theirs=theirs, env=env,
                           log_path=self._tmp / "worker.log")
        self._ready = None

    def _wait_ready(self) -> None:
        if self._ready is not None:
            return
        try:
            hello = self._zygote.read(self.startup_timeout)
        except ZygoteLost as exc:
            hello = {"error": str(exc)}
        if not hello.get("ready"):
            why = str(hello.get("error") or "it stopped")[:300]
            self._zygote.stop_process()
            log.warning("grading worker log: %s", self._zygote.log_tail())
            if self._was_ready:  # it worked before: a failure of this moment, not of the machine
                raise WorkerFailure(f"the grading worker could not restart: {why}")
            raise SandboxError(f"the grading worker could not start: {why}",
                               hint="rerun with -v to see its log; " + bwrap.remedy(why))
        for warning in hello.get("warnings", ()):
            log.warning("grading worker: %s", warning)
        if not hello.get("seccomp") and "seccomp" in self.isolation and "no seccomp" not in self.isolation:
            self.isolation = self.isolation.replace("seccomp socket filter", "no seccomp filter")
        self._ready = hello
        self._was_ready = True
        cg = self._zygote.cgroup
        if cg is not None:  # limits on top of what the zygote itself uses
            cg.limit(memory_bytes=cg.memory_usage() + self.limits.memory_bytes,
                     pids=cg.pids_usage() + self.limits.processes + 8)

    def _control(self, message: dict, fds=(), *, timeout: float | None = None, wait_ready: bool = True) -> dict:
        if wait_ready:
            self._wait_ready()
        return self._zygote.request(message, fds, timeout=timeout or self.control_timeout)

    def _relaunch(self) -> None:
        log.info("restarting the grading worker")
        self._zygote.stop_process()
        self._launch()

    # -- the SubmissionHost interface (for RemoteSubmission) -------------------------------------------
    def _inside(self, path: Path) -> str:
        """``path`` (under the exchange folder) as the sandbox sees it."""
        return f"{SANDBOX_BOX}/{path.relative_to(self.box)}" if self.sandboxed else str(path)

    def spawn(self, sub: RemoteSubmission) -> Channel:
        """A fresh child for ``sub``, connected by two pipes."""
        folder = sub.folder
        cg = self._zygote.cgroup
        nproc = None if (not self.sandboxed and os.geteuid() == 0) else "extra"
        message = {"cmd": "open", "io": self._inside(folder / "io"), "work": self._inside(folder / "work"),
                   "tmp": self._inside(folder / "tmp"), "device": self.device,
                   "output_bytes": self.limits.output_bytes,
                   "rlimits": self.limits.rlimits(address_space=not (cg and "memory" in cg.dirs) and not self._gpu,
                                                  nproc=nproc)}
        for attempt in range(2):
            req_r, req_w = os.pipe()
            rep_r, rep_w = os.pipe()
            try:
                reply = self._control(message, [req_r, rep_w])
            except ZygoteLost as exc:
                for fd in (req_w, rep_r):
                    os.close(fd)
                if attempt:
                    log.warning("grading worker log: %s", self._zygote.log_tail())
                    raise WorkerFailure(f"the grading worker failed twice: {exc}") from None
                self._relaunch()
                continue
            finally:
                os.close(req_r)
                os.close(rep_w)
            if not reply.get("ok"):
                os.close(req_w)
                os.close(rep_r)
                raise WorkerFailure(f"the grading worker could not start a process: {str(reply.get('error'))[:300]}")
            sub.oom_mark = cg.oom_kills() if cg else 0
            return Channel(req_w, rep_r)
        raise AssertionError("unreachable")

    def reap(self, sub: RemoteSubmission, wait: float) -> dict:
        """Kill ``sub``'s process and everything it started; how it ended."""
        dirs = [self._inside(sub.folder / d) for d in ("io", "work", "tmp")]
        try:
            info = self._control({"cmd": "reap", "wait": wait, "dirs": dirs},
                                 timeout=wait + self.control_timeout)
        except ZygoteLost as exc:
            self._relaunch()
            info = {"status": None, "zygote_lost": str(exc)}
        cg = self._zygote.cgroup
        info["oom"] = bool(cg and cg.oom_kills() > sub.oom_mark)
        return info

    def output_so_far(self) -> dict:
        try:
            return self._control({"cmd": "output"})
        except ZygoteLost:
            self._relaunch()
            return {}

    def forget(self, sub: RemoteSubmission) -> None:
        if self._current is sub:
            self._current = None


def _visible(needed: list[Path], course_root: Path | None, extra: Sequence[Path]) -> list[Path]:
    """What the zygote sees besides the system; ``extra``: e.g. a student's own check, the notebook's folder."""
    return visible_paths(needed, course_root) + [Path(p) for p in extra]
