"""Running student notebooks in a sandbox: :class:`Worker` and :class:`RemoteSubmission`.

The interface the grading pipeline uses::

    @dataclass(frozen=True)
    class Limits:                      # dlgrade.grade.limits; a docstring per field
        cpu_seconds: int = 600; memory_bytes: int = 4 << 30; processes: int = 256
        open_files: int = 1024; file_size_bytes: int = 256 << 20; output_bytes: int = 1 << 20

    class Worker:
        def __init__(self, *, course_root: Path | None, preload: Sequence = (),
                     limits: Limits = Limits(), sandbox: str = "auto", device: str = "auto",
                     hidden_paths: Sequence[Path] = (), threads: int = 1,
                     visible_paths: Sequence[Path] = ()): ...
        isolation: str                 # what isolation is in force, in words
        def open(self, nb, *, student_id: str, time_limit: float,
                 request_timeout: float) -> RemoteSubmission: ...
        def close(self) -> None: ...   # also a context manager

    class RemoteSubmission(dlgrade.harness.Submission):   # dlgrade.grade.remote
        cells: list[CellRun]; figures: list[Path]; markdown_answers: dict[str, str]
        output: str; output_dropped: int   # what the notebook printed (capped), bytes dropped
        def close(self) -> None: ...   # also a context manager

    class SandboxError(DlgradeError)   # the sandbox cannot start here: stop, say why and what to do
    class WorkerFailure(Exception)     # the sandbox failed on one submission (twice): mark it, new Worker
    def sandbox_available() -> bool; def sandbox_problem() -> str   # can bubblewrap run here?

A Worker is one long-lived process (the *zygote*, :mod:`dlgrade.grade.worker`)
that imports torch, numpy, scikit-learn, matplotlib and the harness once and
loads the ``preload`` datasets (``(name, options)`` pairs for
``dlgrade.data.load``; a bare string names an extra module to import). Each
:meth:`Worker.open` forks a fresh child from it that runs the notebook's code
cells (``run_cells`` semantics: skipped roles skipped, magics stripped, an error
per cell, the wall-clock ``time_limit``) and then answers the hidden tests'
requests, each within ``request_timeout`` seconds unless the test gives its
own. ``figures`` are PNG copies, in a grader-owned folder, of the figures left
open (at most 10), removed when the submission closes; ``markdown_answers`` are
read from ``nb`` here, not by the child. Problems of the student's code never
raise from :meth:`Worker.open`: they are in ``cells``, and later requests raise
:class:`~dlgrade.harness.errors.StudentError` (``timeout``, ``crashed``, ...).
One submission is open at a time per Worker (opening another closes the
previous one); use one Worker per grading thread. The zygote dies with the
thread that created the Worker (Linux parent-death signal). ``hidden_paths``
must exist when the Worker starts (a missing one is logged and stays visible).

Isolation (``isolation`` says what was in force):

* bubblewrap (:mod:`dlgrade.grade.bwrap`) around the zygote: its own PID,
  network, IPC and mount namespaces, an allow-list view of the file system
  (system folders, Python, dlgrade, the data folders and the course's public
  assignments, all read-only; private ``/tmp``), nothing else of the machine;
  run as user ``nobody`` through ``setpriv --no-new-privs`` when the grader is root;
* a cgroup per Worker for memory and processes (:mod:`dlgrade.grade.limits`),
  else ``RLIMIT_AS`` (CPU jobs only);
* per child: rlimits, a new session, a seccomp filter denying network sockets
  (pyseccomp), the first target of the out-of-memory killer;
* between submissions the zygote kills every other process in the sandbox and
  empties the scratch folders; if it hangs or dies, the sandbox is killed and a
  new zygote started.

The Worker fails closed: with ``sandbox="bwrap"`` (or its synonym ``"auto"``)
a sandbox that cannot start is a :class:`SandboxError` saying why and what to do.
Only ``sandbox="none"``, asked for by name, runs student code unsandboxed; the
isolation string then starts with ``none (UNSANDBOXED)`` and a warning is logged.

Every file, folder and cgroup a Worker makes carries the grader's pid in its
name; a new Worker removes those of graders that are gone
(:mod:`dlgrade.grade.leftovers`).
"""
from __future__ import annotations

import json
import logging
import os
import select
import socket
import subprocess
import sys
import tempfile
import time
import weakref
from collections.abc import Sequence
from pathlib import Path

from dlgrade.errors import DlgradeError
from dlgrade.grade import bwrap
from dlgrade.grade.leftovers import remove_leftovers
from dlgrade.grade.limits import Cgroup, Limits
from dlgrade.grade.remote import Channel, RemoteSubmission, WorkerFailure
from dlgrade.harness.notebook import code_cells, short_answers
from dlgrade.sandbox import framing
from dlgrade.sandbox.processes import Resources, seccomp_available

log = logging.getLogger(__name__)

__all__ = ["Limits", "RemoteSubmission", "SandboxError", "Worker", "WorkerFailure", "sandbox_available",
           "sandbox_problem"]

WORKER_SCRIPT = Path(__file__).resolve().with_name("worker.py")
PYTHON = str(Path(os.path.realpath(Path(sys.executable).parent)) / Path(sys.executable).name)
"""The grader's interpreter, its folder's links resolved (the sandbox has the real paths)."""
_CGROUP_LAUNCH = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 97; shift; done; shift; exec "$@"'


class SandboxError(DlgradeError):
    """The sandbox cannot start here (not the student's code): grading stops, saying why and what to do."""


class ZygoteLost(Exception):
    """The zygote stopped answering its control channel."""


class Worker:
    """One long-lived sandboxed process that imports torch/numpy/sklearn once and forks a fresh
    child per submission. See the module docstring."""

    startup_timeout = 300.0
    """Seconds for the zygote to import and preload."""
    control_timeout = 20.0
    """Seconds for the zygote to answer a command before it is considered hung."""

    def __init__(self, *, course_root: Path | None, preload: Sequence = (), limits: Limits = Limits(),  # noqa: B008
                 sandbox: str = "auto", device: str = "auto", hidden_paths: Sequence[Path] = (),
                 threads: int = 1, visible_paths: Sequence[Path] = ()):
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
        self._datasets, self._modules = _split_preload(preload)
        self._hidden = [Path(p) for p in hidden_paths]
        self._ids = bwrap.sandbox_ids()
        self._visible = bwrap.visible_paths(needed_paths(self._datasets), self.course_root) + [
            Path(p) for p in visible_paths]  # e.g. a student's own check: the notebook's folder
        reason = "--sandbox none was given" if sandbox == "none" else bwrap.probe(
            self._ids, PYTHON, tuple(map(str, self._visible)))
        if reason and sandbox != "none":
            raise SandboxError(f"the grading sandbox cannot start: {reason}", hint=bwrap.remedy(reason))
        self.sandboxed = not reason
        self._gpu = sorted(str(p) for p in Path("/dev").glob("nvidia*")) if device != "cpu" else []
        self._res = Resources()
        self._finalizer = weakref.finalize(self, self._res.release)
        self._res.cgroup = Cgroup.create()
        cg = self._res.cgroup
        self.memory_limited = bool(cg and "memory" in cg.dirs) or not self._gpu
        """Whether the submission's memory is limited (a cgroup, or RLIMIT_AS on CPU jobs)."""
        self._tmp = Path(tempfile.mkdtemp(prefix=f"dlgrade-worker-{os.getpid()}-"))  # the grader's: log, figures
        self._res.dirs.append(self._tmp)
        shm = Path("/dev/shm")  # tmpfs: files the student writes there count against the memory cgroup
        on_shm = bool(cg and "memory" in cg.dirs and shm.is_dir() and os.access(shm, os.W_OK))
        box_parent = Path(tempfile.mkdtemp(prefix=f"dlgrade-box-{os.getpid()}-", dir=shm if on_shm else None))
        self._res.dirs.append(box_parent)
        os.chmod(box_parent, 0o711)  # the sandbox user passes through to its bind mount
        self._box = box_parent / "box"
        self._box.mkdir()
        os.chmod(self._box, 0o755)
        self._empty = box_parent / "empty"  # bound over hidden files
        self._empty.touch()
        os.chmod(self._empty, 0o444)
        self._ready: dict | None = None
        self._was_ready = False
        self._count = 0
        self._current: RemoteSubmission | None = None
        self._closed = False
        self.isolation = self._describe(reason)
        if not self.sandboxed:
            log.warning("grading without a sandbox: %s", self.isolation)
        self._launch()

    # -- public -----------------------------------------------------------------------------------
    def open(self, nb, *, student_id: str, time_limit: float, request_timeout: float) -> RemoteSubmission:
        """Run the (sanitized) notebook ``nb`` in a fresh child; see the module docstring."""
        if self._closed:
            raise SandboxError("this worker is closed")
        if self._current is not None:
            self._current.close()
        self._count += 1
        folder = self._box / f"s{self._count}"
        folder.mkdir(mode=0o700)
        for sub in ("io", "work", "tmp"):
            (folder / sub).mkdir(mode=0o700)
        if self._ids is not None and self.sandboxed:
            for path in (folder, folder / "io", folder / "work", folder / "tmp"):
                os.chown(path, *self._ids)
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
            if self._ready is not None and self._res.proc is not None and self._res.proc.poll() is None:
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

    # -- the zygote ---------------------------------------------------------------------------------
    def _launch(self) -> None:
        """Start the zygote (it imports in the background; :meth:`_wait_ready` waits for it)."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        config = {"sandboxed": self.sandboxed, "preload": self._datasets, "modules": self._modules,
                  "threads": self.threads}
        env = self._env()
        fds = [theirs.fileno()]
        if self.sandboxed:
            private = [self.course_root / name for name in bwrap.COURSE_PRIVATE] if self.course_root else []
            mounts = bwrap.plan_mounts(visible=self._visible, hidden=self._hidden, private=private,
                                       box=self._box, empty=self._empty, tmp_bytes=self.limits.memory_bytes)
            for warning in mounts.warnings:
                log.warning("sandbox: %s", warning)
            stage = bwrap.staging(self._visible, self._ids, self._tmp)
            cmd = bwrap.command(python=PYTHON, script=str(WORKER_SCRIPT), control_fd=theirs.fileno(),
                                config=config, env=env, mounts=mounts, ids=self._ids, stage=stage,
                                gpu_devices=self._gpu)
            env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}  # for setpriv and bwrap; the sandbox gets `env`
        else:
            cmd = [PYTHON, "-I", "-B", str(WORKER_SCRIPT), "--control-fd", str(theirs.fileno()),
                   "--config", json.dumps(config)]
        cg = self._res.cgroup
        if cg is not None:
            cg.limit(memory_bytes=None, pids=None)  # the zygote's own imports are trusted
            cmd = ["/bin/sh", "-c", _CGROUP_LAUNCH, "sh", *map(str, cg.procs_files), "--", *cmd]
        with open(self._tmp / "worker.log", "ab") as logfile:
            try:
                self._res.proc = subprocess.Popen(cmd, pass_fds=fds, stdin=subprocess.DEVNULL, stdout=logfile,
                                                  stderr=subprocess.STDOUT, env=env, cwd="/", start_new_session=True)
            finally:
                theirs.close()
        self._res.sock = ours
        self._pending = framing.Lines(framing.MAX_CONTROL)
        self._ready = None

    def _wait_ready(self) -> None:
        if self._ready is not None:
            return
        try:
            hello = self._read_line(self.startup_timeout)
        except ZygoteLost as exc:
            hello = {"error": str(exc)}
        if not hello.get("ready"):
            why = str(hello.get("error") or "it stopped")[:300]
            self._res.stop_process()
            log.warning("grading worker log: %s", self._log_tail())
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
        cg = self._res.cgroup
        if cg is not None:  # limits on top of what the zygote itself uses
            cg.limit(memory_bytes=cg.memory_usage() + self.limits.memory_bytes,
                     pids=cg.pids_usage() + self.limits.processes + 8)

    def _control(self, message: dict, fds=(), *, timeout: float | None = None, wait_ready: bool = True) -> dict:
        if wait_ready:
            self._wait_ready()
        sock = self._res.sock
        if sock is None:
            raise ZygoteLost("no worker process")
        try:
            socket.send_fds(sock, [framing.encode(message)], list(fds))
        except OSError as exc:
            raise ZygoteLost(f"the worker process failed ({exc})") from None
        return self._read_line(timeout or self.control_timeout)

    def _read_line(self, timeout: float) -> dict:
        """The zygote's next JSON line; ZygoteLost when it does not come in time."""
        sock, deadline = self._res.sock, time.monotonic() + timeout
        if sock is None:
            raise ZygoteLost("no worker process")
        try:
            while (line := self._pending.pop()) is None:
                if not select.select([sock], [], [], max(0.0, deadline - time.monotonic()))[0]:
                    raise ZygoteLost(f"the worker process did not answer within {timeout:g} s")
                try:
                    data = sock.recv(1 << 20)
                except OSError as exc:
                    raise ZygoteLost(f"the worker process failed ({exc})") from None
                if not data:
                    raise ZygoteLost("the worker process stopped")
                self._pending.feed(data)
            return framing.decode(line)
        except framing.BadLine:
            raise ZygoteLost("the worker process sent something that is not a JSON line") from None

    def _relaunch(self) -> None:
        log.info("restarting the grading worker")
        self._res.stop_process()
        self._launch()

    # -- for RemoteSubmission (remote.SubmissionHost) -----------------------------------------------------
    def _inside(self, path: Path) -> str:
        """``path`` (under the exchange folder) as the sandbox sees it."""
        return f"{bwrap.SANDBOX_BOX}/{path.relative_to(self._box)}" if self.sandboxed else str(path)

    def spawn(self, sub: RemoteSubmission) -> Channel:
        """A fresh child for ``sub``, connected by two pipes."""
        folder = sub.folder
        cg = self._res.cgroup
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
                    log.warning("grading worker log: %s", self._log_tail())
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
        cg = self._res.cgroup
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

    # -- description --------------------------------------------------------------------------------------
    def _env(self) -> dict:
        from dlgrade.data import get_data_dir, get_data_home

        tmp = "/tmp" if self.sandboxed else str(self._tmp)
        threads = str(self.threads)
        env = {"PATH": f"{Path(PYTHON).parent}:/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
               "HOME": tmp, "TMPDIR": tmp, "MPLBACKEND": "Agg", "MPLCONFIGDIR": f"{tmp}/.matplotlib",
               "XDG_CACHE_HOME": f"{tmp}/.cache", "DLGRADE_GRADING": "1",
               "DLGRADE_DATA_HOME": str(get_data_home().resolve()),
               # the same thread counts and kernels on every machine: measurements must not depend on it
               "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads,
               "CUBLAS_WORKSPACE_CONFIG": ":4096:8"}
        data_dir = get_data_dir()
        if data_dir is not None:
            env["DLGRADE_DATA"] = str(data_dir.resolve())
        if "CUDA_VISIBLE_DEVICES" in os.environ:
            env["CUDA_VISIBLE_DEVICES"] = os.environ["CUDA_VISIBLE_DEVICES"]
        return env

    def _describe(self, reason: str) -> str:
        cg = self._res.cgroup
        parts = []
        if cg is not None:
            parts.append(cg.description)
        if not (cg and "memory" in cg.dirs):
            parts.append("RLIMIT_AS memory limit" if not self._gpu else "no memory limit (GPU job, no cgroup)")
        parts.append("seccomp socket filter" if seccomp_available() else "no seccomp filter")
        parts.append("rlimits on CPU time, file size, open files and processes")
        if self.sandboxed:
            user = bwrap.SANDBOX_USER if self._ids is not None else "the grader's user"
            extra = ", GPU devices bound" if self._gpu else ""
            return (f"bubblewrap (user {user}, no network, read-only allow-list file system: system, Python, "
                    f"dlgrade, data, public assignment; private /tmp, pid namespace{extra}); " + ", ".join(parts))
        return (f"none (UNSANDBOXED: {reason}; student code ran with the grader's own rights and could read "
                "and change anything the grader can); " + ", ".join(parts))

    def _log_tail(self) -> str:
        try:
            lines = (self._tmp / "worker.log").read_text(errors="replace").strip().splitlines()
        except OSError:
            return "(no log)"
        return " / ".join(lines[-5:])[-1000:] or "(empty)"


def sandbox_available() -> bool:
    """Can ``Worker(sandbox="bwrap")`` start here?"""
    return not sandbox_problem()


def sandbox_problem() -> str:
    """'' when ``Worker(sandbox="bwrap")`` can start here, else why not (for messages and test skips)."""
    return bwrap.probe(bwrap.sandbox_ids(), PYTHON, tuple(map(str, needed_paths())))


def needed_paths(datasets=()) -> list[Path]:
    """Folders the zygote needs to see: Python, dlgrade, the data folders."""
    from dlgrade.data import get_data_dir, get_data_home

    paths = [Path(p) for p in bwrap.python_paths(sys.executable)]
    paths.append(Path(PYTHON).parent)
    paths += [WORKER_SCRIPT.parents[2], get_data_home()]
    if get_data_dir() is not None:
        paths.append(get_data_dir())
    for _, options in datasets:
        for key in ("data_dir", "data_home"):
            if isinstance(options.get(key), str) and os.path.isabs(options[key]):
                paths.append(Path(options[key]))
    return [p.expanduser() for p in paths]


def _split_preload(preload) -> tuple[list, list]:
    datasets, modules = [], []
    for item in preload:
        if isinstance(item, str):
            modules.append(item)
        elif isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[0], str) \
                and isinstance(item[1], dict):
            datasets.append([item[0], dict(item[1])])
        else:
            raise ValueError(f"preload entries are (dataset name, options) pairs or module names, got {item!r}")
    return datasets, modules
