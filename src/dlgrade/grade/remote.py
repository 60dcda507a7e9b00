"""The grader's end of a sandboxed submission: :class:`RemoteSubmission`.

A RemoteSubmission moves the harness's requests to the submission's process
(a child of the worker's zygote, see :mod:`dlgrade.grade.worker`) over a pair
of pipes, one JSON line each way, and reads arrays from the exchange folder.
Everything that comes back is untrusted: replies are size-capped, must have
exactly the expected keys and sequence number, and are decoded with
:func:`dlgrade.harness.values.decode`; files are opened without following links.

When the process hangs or dies, it is killed with everything it started, the
request fails with a ``timeout`` or ``crashed`` :class:`StudentError`, and the
next request starts a fresh process and runs the notebook again first, at most
:attr:`RemoteSubmission.max_runs` times per submission. A cell that hung or
killed the notebook's process is skipped in the runs that follow, with a
message, so one bad cell costs that cell and no more.
"""
from __future__ import annotations

import json
import logging
import os
import re
import select
import shutil
import signal
import stat
import time
from itertools import count
from pathlib import Path

import numpy as np

from dlgrade.harness.errors import BadOutput, StudentError
from dlgrade.harness.submission import CellRun, Submission
from dlgrade.harness.values import MAX_ARRAY_BYTES, DirStore, decode

log = logging.getLogger(__name__)

MAX_REPLY = 64 << 20
"""Longest reply line accepted from the submission's process (arrays travel as files)."""
MAX_FIGURE_BYTES = 4 << 20
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
CELL_STATUSES = ("ok", "error", "skipped", "not_run")
_OPEN_FLAGS = os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK  # no links, no blocking on a FIFO


class Closed(Exception):
    """The process closed its end of the pipes (it died, or closed them)."""


class TimedOut(Exception):
    """No complete reply before the deadline."""


class Malformed(Exception):
    """Something that is not a valid reply came back."""


class Channel:
    """Request and reply pipes to one submission process, with deadlines."""

    def __init__(self, req_w: int, rep_r: int):
        self.req_w, self.rep_r = req_w, rep_r
        os.set_blocking(req_w, False)
        os.set_blocking(rep_r, False)
        self.buf = bytearray()

    def send(self, message: dict, deadline: float) -> None:
        view = memoryview(json.dumps(message).encode() + b"\n")
        while view:
            if not select.select([], [self.req_w], [], _left(deadline))[1]:
                raise TimedOut
            try:
                view = view[os.write(self.req_w, view):]
            except BlockingIOError:
                continue
            except (BrokenPipeError, OSError):
                raise Closed from None

    def recv(self, deadline: float) -> dict:
        while b"\n" not in self.buf:
            if len(self.buf) > MAX_REPLY:
                raise Malformed(f"a reply longer than {MAX_REPLY >> 20} MiB")
            if not select.select([self.rep_r], [], [], _left(deadline))[0]:
                raise TimedOut
            try:
                chunk = os.read(self.rep_r, 1 << 20)
            except BlockingIOError:
                continue
            except OSError:
                chunk = b""
            if not chunk:
                raise Closed
            self.buf += chunk
        line, _, rest = bytes(self.buf).partition(b"\n")
        self.buf = bytearray(rest)
        try:
            message = json.loads(line)
        except ValueError:
            raise Malformed("a reply that is not JSON") from None
        if not isinstance(message, dict):
            raise Malformed("a reply that is not a JSON object")
        return message

    def close(self) -> None:
        for fd in (self.req_w, self.rep_r):
            try:
                os.close(fd)
            except OSError:
                pass


def _left(deadline: float) -> float:
    return max(0.0, deadline - time.monotonic())


class ExchangeStore(DirStore):
    """A :class:`DirStore` safe in a folder the student's process can write to.

    Files are opened relative to a descriptor of the folder taken before the
    student's process existed, never through links, never blocking on FIFOs, and
    the grader's files are created exclusively (a planted link cannot redirect a write).
    """

    def __init__(self, directory: Path, side: str, dir_fd: int):
        super().__init__(directory, side)
        self.dir_fd = dir_fd
        self.prefix, self.other = side, "s" if side == "g" else "g"
        self.names = count()

    def put(self, array: np.ndarray) -> str:
        name = f"{self.prefix}{next(self.names)}.npy"
        try:
            os.unlink(name, dir_fd=self.dir_fd)
        except FileNotFoundError:
            pass
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _OPEN_FLAGS, 0o644, dir_fd=self.dir_fd)
        with os.fdopen(fd, "wb") as fh:
            np.save(fh, np.asarray(array, order="C"), allow_pickle=False)
        return name

    def get(self, name: str) -> np.ndarray:
        if not isinstance(name, str) or not re.fullmatch(self.other + r"\d{1,12}\.npy", name):
            raise BadOutput(f"invalid array reference {str(name)[:60]!r}")
        try:
            fd = os.open(name, os.O_RDONLY | _OPEN_FLAGS, dir_fd=self.dir_fd)
        except OSError:
            raise BadOutput(f"array file {name} is missing or not a regular file") from None
        try:
            with os.fdopen(fd, "rb") as fh:
                info = os.fstat(fh.fileno())
                if not stat.S_ISREG(info.st_mode):
                    raise BadOutput(f"array file {name} is not a regular file")
                if info.st_size > MAX_ARRAY_BYTES:
                    raise BadOutput(f"array {name} is larger than {MAX_ARRAY_BYTES >> 20} MiB")
                os.set_blocking(fh.fileno(), True)
                return np.load(fh, allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise BadOutput(f"array {name} could not be read: {exc}"[:300]) from None
        finally:
            try:
                os.unlink(name, dir_fd=self.dir_fd)
            except OSError:
                pass


def read_png(dir_fd: int, name: str) -> bytes | None:
    """The PNG file ``name`` in the folder, or None when it is not a small, regular PNG file."""
    try:
        fd = os.open(name, os.O_RDONLY | _OPEN_FLAGS, dir_fd=dir_fd)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_FIGURE_BYTES:
            return None
        data = fh.read(MAX_FIGURE_BYTES + 1)
    return data if data.startswith(PNG_MAGIC) and len(data) <= MAX_FIGURE_BYTES else None


def explain(info: dict, *, memory_bytes: int, cpu_seconds: int, memory_limited: bool) -> str:
    """Why the submission's process stopped, for the student."""
    status = info.get("status") or {}
    sig, code, cpu = status.get("signal"), status.get("exit"), status.get("cpu") or 0
    mib = memory_bytes >> 20
    if info.get("oom"):
        return f"it ran out of memory (the limit is {mib} MiB) and was stopped"
    if sig == signal.SIGXCPU or (sig == signal.SIGKILL and cpu >= cpu_seconds):
        return f"it used up its CPU time ({cpu_seconds} s) and was stopped"
    if sig == signal.SIGKILL:
        likely = f"most likely it ran out of memory (the limit is {mib} MiB)" if memory_limited else "it was killed"
        return f"it was killed (SIGKILL); {likely}"
    if sig is not None:
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        return f"it crashed ({name})" + ("; this often means it ran out of memory" if sig in (
            signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS) else "")
    if code is not None:
        return (f"it exited with code {code}: does the code call os._exit() or sys.exit() outside a "
                f"function, or kill its own process?")
    if info.get("zygote_lost"):
        return "the sandbox it ran in stopped (did the code kill or stop other processes?)"
    return "it stopped for an unknown reason"


class RemoteSubmission(Submission):
    """A notebook running in a worker's sandbox; see the module docstring.

    Built by :meth:`dlgrade.grade.sandbox.Worker.open`; ``close()`` (or leaving a
    ``with`` block) kills the process and everything it started and removes the
    submission's files, figures included: copy what you keep before closing.
    """

    max_runs = 4
    """Runs of the notebook per submission (the first, then restarts after a timeout or crash)."""
    grace = 2.0
    """Seconds past the notebook's time limit before its process is killed."""

    def __init__(self, worker, *, folder: Path, cells: list[dict], time_limit: float,
                 request_timeout: float, markdown_answers: dict, student_id: str, figures_dir: Path):
        super().__init__(cells=[], markdown_answers=markdown_answers, figures=[], timeout=request_timeout)
        self.student_id = student_id
        self.output = ""
        """What the notebook printed (stdout and stderr together, capped at ``Limits.output_bytes``)."""
        self.output_dropped = 0
        """Bytes of output beyond the cap, dropped."""
        self.notes: list[str] = []
        """Layers of isolation that could not be applied in the submission's process."""
        self.time_limit = float(time_limit)
        self._worker = worker
        self._folder = folder
        self._figures_dir = figures_dir
        self._io_fd = os.open(folder / "io", os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        self._exchange = ExchangeStore(folder / "io", "g", self._io_fd)
        self._spec = cells
        self._skip: dict[int, str] = {}
        self._figures_wanted = True
        self._channel: Channel | None = None
        self._seq = 0
        self._runs = 0
        self._dead = ""
        self._closed = False
        self._oom_mark = 0

    # -- the Submission API -------------------------------------------------------------------
    def _store(self):
        return self._exchange

    def _send(self, op: str, fields: dict, timeout: float):
        if self._closed:
            raise StudentError("crashed", "the submission was closed")
        if self._channel is None:
            self._run()
        if self._channel is None:
            raise StudentError("crashed", self._dead)
        self._seq += 1
        what = _describe(op, fields)
        deadline = time.monotonic() + timeout
        try:
            self._channel.send({"seq": self._seq, "op": op, "fields": fields}, deadline)
            reply = self._channel.recv(deadline)
        except TimedOut:
            self._stop(0)
            raise StudentError("timeout", f"{what} took longer than {timeout:g} s and was stopped") from None
        except Closed:
            info = self._stop(1.0)
            raise StudentError("crashed", f"the notebook's process stopped while {what} ran: "
                               f"{self._explain(info)}") from None
        except Malformed as exc:
            self._stop(0)
            raise StudentError("crashed", f"the notebook's process sent {exc} while {what} ran "
                               "(does the code write to the grader's channel?)") from None
        if set(reply) - {"seq", "ok", "value", "error"} or reply.get("seq") != self._seq \
                or not isinstance(reply.get("ok"), bool) or ("value" if reply["ok"] else "error") not in reply:
            self._stop(0)
            raise StudentError("crashed", f"the notebook's process sent an invalid reply while {what} ran "
                               "(does the code write to the grader's channel?)")
        if not reply["ok"]:
            error = reply.get("error")
            raise StudentError.from_dict(error if isinstance(error, dict) else {})
        return decode(reply.get("value"), self._exchange)

    # -- life cycle -------------------------------------------------------------------------------
    def close(self) -> None:
        """Kill the submission's process and everything it started; remove its files."""
        if self._closed:
            return
        self._closed = True
        try:
            if self._runs:
                self._stop(0)
        finally:
            os.close(self._io_fd)
            shutil.rmtree(self._folder, ignore_errors=True)
            shutil.rmtree(self._figures_dir, ignore_errors=True)
            self._worker._forget(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- running the notebook ------------------------------------------------------------------------
    def _run(self) -> None:
        """Start a process and run the notebook in it, until a run completes or none are left."""
        while self._channel is None and not self._dead:
            if self._runs >= self.max_runs:
                self._dead = (f"the notebook's process stopped {self._runs} times (timeouts or crashes); "
                              "no further requests are answered for this submission")
                if not self.cells:
                    self.cells = [CellRun(c["index"], c["id"], "error", self._skip[c["index"]])
                                  if c["index"] in self._skip else
                                  CellRun(c["index"], c["id"], "not_run", "the notebook kept stopping before "
                                          "this cell") for c in self._spec]
                return
            self._runs += 1
            self._channel = self._worker._spawn(self)
            current, info = None, None
            deadline = time.monotonic() + self.time_limit + self.grace
            fields = {"cells": self._spec, "skip": {str(k): v for k, v in self._skip.items()},
                      "time_limit": self.time_limit, "figures": self._figures_wanted}
            try:
                self._channel.send({"seq": 0, "op": "__notebook__", "fields": fields}, deadline)
                while True:
                    reply = self._channel.recv(deadline)
                    if set(reply) == {"seq", "progress"} and reply["seq"] == 0:
                        current = reply["progress"]
                        continue
                    self._notebook_done(reply)
                    return
            except TimedOut:
                self._stop(0)
                message = (f"this cell was still running when the notebook's time limit "
                           f"({self.time_limit:g} s) ran out; it was stopped and skipped")
            except Closed:
                info = self._stop(1.0)
                message = f"this cell stopped the notebook's process ({self._explain(info)}); it was skipped"
            except Malformed as exc:
                self._stop(0)
                message = f"while this cell ran, the notebook's process sent {exc}; it was skipped"
            self._blame(current, message, info)

    def _blame(self, current, message: str, info: dict | None) -> None:
        if current == "figures":
            self._figures_wanted = False
        elif isinstance(current, int) and not isinstance(current, bool) and current not in self._skip:
            self._skip[current] = message
        else:  # before any student code ran: the sandbox's fault, not the student's
            from dlgrade.grade.sandbox import SandboxError

            tail = ((info or {}).get("output") or "").strip().splitlines()[-3:]
            raise SandboxError("the submission's process failed before running any cell"
                               + (f": {' / '.join(tail)}" if tail else ""))

    def _notebook_done(self, reply: dict) -> None:
        value = reply.get("value")
        if set(reply) != {"seq", "ok", "value"} or reply["seq"] != 0 or reply["ok"] is not True \
                or not isinstance(value, dict) or not isinstance(value.get("cells"), list):
            raise Malformed("an invalid notebook report")
        if self.cells:  # a restart: the first complete run's cells and figures stand
            return
        ids = {c["index"]: c["id"] for c in self._spec}
        runs = {}
        for item in value["cells"]:
            if (isinstance(item, list) and len(item) == 3 and item[0] in ids
                    and item[1] in CELL_STATUSES and isinstance(item[2], str)):
                runs[item[0]] = CellRun(item[0], ids[item[0]], item[1], item[2][:2000])
        self.cells = [runs.get(c["index"]) or CellRun(c["index"], c["id"], "not_run", "the notebook stopped "
                      "before this cell") for c in self._spec]
        self.notes = [str(n)[:200] for n in value.get("notes", [])[:10] if isinstance(n, str)]
        if self.notes:
            log.warning("submission of %s ran with less isolation: %s", self.student_id, "; ".join(self.notes))
        self._copy_figures(value.get("figures"))
        shown = self._worker._output()
        self.output, self.output_dropped = shown.get("output", ""), shown.get("dropped", 0)

    def _copy_figures(self, names) -> None:
        if not isinstance(names, list):
            return
        for name in names[:10]:
            if not (isinstance(name, str) and re.fullmatch(r"fig\d\.png", name)):
                continue
            data = read_png(self._io_fd, name)
            if data is None:
                continue
            self._figures_dir.mkdir(parents=True, exist_ok=True)
            path = self._figures_dir / f"fig-{len(self.figures) + 1}.png"
            path.write_bytes(data)
            self.figures.append(path)

    def _stop(self, wait: float) -> dict:
        """Kill the process (after ``wait`` seconds for it to end by itself); how it ended."""
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        return self._worker._reap(self, wait)

    def _explain(self, info: dict) -> str:
        limits = self._worker.limits
        return explain(info, memory_bytes=limits.memory_bytes, cpu_seconds=limits.cpu_seconds,
                       memory_limited=self._worker.memory_limited)


def _describe(op: str, fields: dict) -> str:
    name = fields.get("name")
    if op in ("call", "method") and isinstance(name, str):
        return f"`{name[:60]}`"
    return {"train": "training", "predict": "predicting", "make": "building a grader object",
            "dataset": "loading a dataset"}.get(op, f"the request '{op[:30]}'")
