"""The grader's end of a sandboxed submission: :class:`RemoteSubmission`.

A RemoteSubmission moves the harness's requests to the submission's process
(a child of the worker's zygote, see :mod:`dlgrade.sandbox.zygote`) over a pair
of pipes (:mod:`dlgrade.sandbox.channel`), one JSON line each way, and reads
arrays from the exchange folder (:mod:`dlgrade.sandbox.exchange`).
Everything that comes back is untrusted: replies are size-capped, must have
exactly the expected keys and sequence number, and are decoded with
:func:`dlgrade.harness.values.decode`; files are opened without following links.

When the process hangs or dies, it is killed with everything it started, the
request fails with a ``timeout`` or ``crashed`` :class:`StudentError`, and the
next request starts a fresh process and runs the notebook again first, at most
:attr:`RemoteSubmission.max_runs` times per submission. A cell that hung or
killed the notebook's process is skipped in the runs that follow, with a
message, so one bad cell costs that cell and no more.

Student code can write to the reply pipe too (it finds it in ``/proc/self/fd``).
So whose fault a failure is, is decided from the grader's side only: student
code runs only after the process announced its first cell, so a process that
stops before saying anything failed on the grader's side (retried once, then
:class:`WorkerFailure`); anything after that, forged or malformed lines
included, is the submission's, blamed on the cell that was running. Text
the process printed is never shown as the grader's own message.
"""
from __future__ import annotations

import logging
import os
import re
import shutil
import time
from pathlib import Path

from dlgrade.harness.errors import StudentError
from dlgrade.harness.notebook import SKIPPED_WHEN_GRADING
from dlgrade.harness.submission import CellRun, Submission
from dlgrade.sandbox.channel import Channel, Closed, Malformed, TimedOut
from dlgrade.sandbox.errors import WorkerFailure
from dlgrade.sandbox.exchange import ExchangeStore, read_png
from dlgrade.sandbox.limits import MAX_FIGURES
from dlgrade.sandbox.processes import explain
from dlgrade.sandbox.protocol import SubmissionHost

__all__ = ["RemoteSubmission"]

log = logging.getLogger(__name__)

CELL_STATUSES = ("ok", "error", "skipped", "not_run")


class RemoteSubmission(Submission):
    """A notebook running in a worker's sandbox; see the module docstring.

    Built by :meth:`dlgrade.sandbox.worker.Worker.open`; ``close()`` (or leaving a
    ``with`` block) kills the process and everything it started and removes the
    submission's files, figures included: copy what you keep before closing.
    """

    max_runs = 4
    """Runs of the notebook per submission (the first, then restarts after a timeout or crash)."""
    grace = 2.0
    """Seconds past the notebook's time limit before its process is killed."""

    def __init__(self, worker: SubmissionHost, *, folder: Path, cells: list[dict], time_limit: float,
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
        self.folder = folder
        """This submission's folder in the worker's exchange folder (``io``, ``work``, ``tmp``)."""
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
        self._infra_failures = 0
        self._closed = False
        self.oom_mark = 0
        """The worker's count of out-of-memory kills when this submission's process started."""

    # -- the Submission API -------------------------------------------------------------------
    def _store(self):
        return self._exchange

    def _send(self, op: str, fields: dict, timeout: float):
        if self._closed:
            raise StudentError("crashed", "the submission was closed")
        if self._channel is None:
            self.start()
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
        return self._dec(reply.get("value"), self._exchange)

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
            shutil.rmtree(self.folder, ignore_errors=True)
            shutil.rmtree(self._figures_dir, ignore_errors=True)
            self._worker.forget(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- running the notebook ------------------------------------------------------------------------
    def start(self) -> None:
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
            self._channel = self._worker.spawn(self)
            current, cell, heard, info = None, None, False, None
            order = self._announced_order()
            deadline = time.monotonic() + self.time_limit + self.grace
            fields = {"cells": self._spec, "skip": {str(k): v for k, v in self._skip.items()},
                      "time_limit": self.time_limit, "figures": self._figures_wanted}
            try:
                self._channel.send({"seq": 0, "op": "__notebook__", "fields": fields}, deadline)
                while True:
                    reply = self._channel.recv(deadline)
                    heard = True
                    if set(reply) == {"seq", "progress"} and reply["seq"] == 0:
                        current = reply["progress"]
                        if type(current) is int and current in order:  # in order: a forged line cannot move it back
                            cell, order = current, order[order.index(current) + 1:]
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
            if not heard:
                self._infrastructure(info)
            else:
                self._blame(current, cell, message)

    def _announced_order(self) -> list[int]:
        """The cells the process announces in this run, in order (role-skipped and blamed ones left out)."""
        return [c["index"] for c in self._spec
                if c["index"] not in self._skip and c.get("role") not in SKIPPED_WHEN_GRADING]

    def _last_announced(self):
        order = self._announced_order()
        return order[-1] if order else None

    def _infrastructure(self, info: dict | None) -> None:
        """The process stopped before announcing any cell: no student code ran, the grader's side failed."""
        self._runs -= 1  # not the notebook's run
        self._infra_failures += 1
        why = self._explain(info) if info else "it did not answer"
        log.warning("the sandboxed process of %s failed before running any cell (%s)", self.student_id, why)
        if self._infra_failures >= 2:
            raise WorkerFailure(f"the sandbox failed twice before running any cell of this notebook ({why})")

    def _blame(self, current, cell, message: str) -> None:
        """Skip the cell that was running: ``cell``, the last cell announced in order (a forged
        announcement of an earlier cell, or of something else, does not move it)."""
        if current == "figures" and self._figures_wanted and cell == self._last_announced():
            self._figures_wanted = False
            return
        if cell is not None and cell not in self._skip:
            self._skip[cell] = message
            return
        self._dead = ("the notebook's process sent lines the grader did not expect (does the code write "
                      "to the grader's channel?); no further requests are answered for this submission")
        self.cells = [CellRun(c["index"], c["id"], "error", self._skip[c["index"]]) if c["index"] in self._skip
                      else CellRun(c["index"], c["id"], "not_run", self._dead) for c in self._spec]

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
        shown = self._worker.output_so_far()
        self.output, self.output_dropped = shown.get("output", ""), shown.get("dropped", 0)

    def _copy_figures(self, names) -> None:
        if not isinstance(names, list):
            return
        for name in names[:MAX_FIGURES]:
            if not (isinstance(name, str) and re.fullmatch(r"fig\d{1,3}\.png", name)):
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
        return self._worker.reap(self, wait)

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
