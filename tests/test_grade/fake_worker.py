"""An in-process stand-in for the sandboxed ``dlgrade.sandbox.Worker`` (same interface, no isolation).

It reports what the real worker reports, so the pipeline's handling can be
tested quickly: a request past its time limit raises ``StudentError("timeout")``
and a request that exits or runs out of memory ``crashed``; as the real worker
kills that process, the next request runs the notebook again in a fresh
namespace (at most ``max_runs`` runs). Notebooks run one at a time (pyplot is
not thread-safe).
"""
from __future__ import annotations

import json
import tempfile
import threading
import time
from pathlib import Path

from dlgrade.harness.errors import StudentError
from dlgrade.harness.notebook import code_cells, run_cells, short_answers
from dlgrade.harness.ops import Dispatcher
from dlgrade.harness.submission import CellRun, Submission
from dlgrade.harness.values import MemoryStore, decode

_RUN_LOCK = threading.Lock()


class FakeSubmission(Submission):
    """Answers like ``LocalSubmission`` (same JSON round trip), and dies and restarts like the real one."""

    max_runs = 4

    def __init__(self, nb, namespace, *, scratch: tempfile.TemporaryDirectory, time_limit: float, **kwargs):
        super().__init__(**kwargs)
        self._nb, self._time_limit = nb, time_limit
        self._scratch = scratch
        self._memory = MemoryStore()
        self._dispatcher = Dispatcher(namespace, self._memory, device="cpu")
        self.runs = 1
        self.dead: str | None = None

    def _store(self):
        return self._memory

    def _answer(self, op, fields):
        request = json.loads(json.dumps({"op": op, "fields": fields}))
        response = json.loads(json.dumps(self._dispatcher.handle(request)))
        if not response.get("ok"):
            raise StudentError.from_dict(response.get("error") or {})
        return decode(response.get("value"), self._memory)

    def _send(self, op, fields, timeout):
        if self.dead:
            if self.runs >= self.max_runs:
                raise StudentError("crashed", f"the notebook's process stopped {self.runs} times")
            self.runs += 1
            self.dead = None
            namespace, _, _ = run_notebook(self._nb, self._time_limit, None)
            self._dispatcher = Dispatcher(namespace, self._memory, device="cpu")
        box: dict = {}

        def answer():
            try:
                box["value"] = self._answer(op, fields)
            except StudentError as exc:
                box["error"] = exc
            except BaseException as exc:  # noqa: BLE001 - sys.exit in student code ends its process
                box["error"] = StudentError("crashed", f"the process stopped ({type(exc).__name__}: {exc})")

        thread = threading.Thread(target=answer, daemon=True)
        thread.start()
        thread.join(timeout)
        if thread.is_alive():
            self.dead = "killed after a timeout"
            raise StudentError("timeout", f"the request ran past its time limit of {timeout:g} s")
        error = box.get("error")
        if error is not None:
            if error.kind == "crashed":
                self.dead = error.message
            raise error
        return box["value"]

    def close(self):
        self._scratch.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class FakeWorker:
    """``Worker(course_root=..., preload=..., hidden_paths=..., device=...)`` run in this process."""

    isolation = "none: in-process test stand-in"
    created: list["FakeWorker"] = []
    """Every instance, so tests can see the options the pipeline passed."""

    def __init__(self, **options):
        self.options = options
        self.opened: list[str] = []
        self.closed = False
        FakeWorker.created.append(self)

    def open(self, nb, *, student_id, time_limit, request_timeout):
        self.opened.append(student_id)
        scratch = tempfile.TemporaryDirectory(prefix="dlgrade-fake-")
        ns, cells, figures = run_notebook(nb, time_limit, Path(scratch.name))
        return FakeSubmission(nb, ns, scratch=scratch, time_limit=time_limit, cells=cells,
                              markdown_answers=short_answers(nb), figures=figures, timeout=request_timeout)

    def close(self):
        self.closed = True


def run_notebook(nb, time_limit: float, figures_dir: Path | None):
    """(namespace, cell runs, figure files) of running ``nb``'s code cells here."""
    ns: dict = {"__name__": "__main__"}
    with _RUN_LOCK:
        runs = run_cells(code_cells(nb), ns, deadline=time.monotonic() + time_limit)
        figures = _save_figures(figures_dir)
    return ns, [CellRun(c.index, c.cell_id, status, msg) for c, status, msg in runs], figures


def _save_figures(folder: Path | None) -> list[Path]:
    import sys

    plt = sys.modules.get("matplotlib.pyplot")
    if plt is None:
        return []
    paths = []
    for n in plt.get_fignums() if folder is not None else ():
        path = folder / f"figure-{n}.png"
        plt.figure(n).savefig(path, format="png")
        paths.append(path)
    plt.close("all")
    return paths
