"""Running a batch on parallel workers: one thread per sandboxed Worker, results handed to the main thread.

Each thread owns one :class:`~dlgrade.sandbox.worker.Worker` (its own process;
the test code on the grader side is light) and takes submissions from a shared
queue; the main thread writes every result, so outputs never race. A worker
that failed is replaced before the next submission. On Ctrl-C or an error that
stops the batch, the workers are closed and what was written stays written.

Devices: with CUDA, worker ``i`` uses ``cuda:<i mod GPUs>`` and at most
``gpu_jobs`` submissions run on one GPU at a time (further workers wait);
default worker count: ``gpu_jobs`` per GPU, or half the usable CPU cores
without a GPU.
"""
from __future__ import annotations

import logging
import os
import queue
import sys
import threading
from contextlib import nullcontext
from pathlib import Path
from typing import Callable

from dlgrade.errors import DlgradeError

log = logging.getLogger(__name__)


def run_batch(todo: list, grade: Callable, *, devices: list[str], gpu_jobs: int, factory: Callable,
              options: dict, on_done: Callable) -> None:
    """``grade(item, worker) -> job`` for each item of ``todo``, with one thread (and one Worker, made by
    ``factory(**options, device=...)``) per entry of ``devices``; ``on_done(job)`` runs in this thread."""
    tasks: queue.Queue = queue.Queue()
    for item in todo:
        tasks.put(item)
    results: queue.Queue = queue.Queue()
    stop = threading.Event()
    slots = {d: threading.Semaphore(gpu_jobs) for d in set(devices) if d.startswith("cuda")}
    live: list = []

    def loop(device: str) -> None:
        worker = None
        try:
            while not stop.is_set():
                try:
                    item = tasks.get_nowait()
                except queue.Empty:
                    return
                if worker is None:
                    worker = factory(**options, device=device)
                    live.append(worker)
                with slots.get(device) or nullcontext():
                    job = grade(item, worker)
                results.put(job)
                if job.worker_broken:
                    _close(worker)
                    worker = None
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread, which stops the batch
            results.put(exc)
        finally:
            _close(worker)

    threads = [threading.Thread(target=loop, args=(d,), daemon=True, name=f"grade-{i}")
               for i, d in enumerate(devices)]
    for t in threads:
        t.start()
    completed = False
    try:
        remaining = len(todo)
        while remaining:
            try:
                got = results.get(timeout=0.2)
            except queue.Empty:
                if not any(t.is_alive() for t in threads) and results.empty():
                    raise DlgradeError("the grading workers stopped before the batch was done")
                continue
            if isinstance(got, BaseException):
                raise got
            on_done(got)
            remaining -= 1
        completed = True
    finally:
        stop.set()
        if not completed:  # interrupted or failed: stop the sandboxes the threads may be waiting on
            for worker in list(live):
                _close(worker)
        for t in threads:  # after a complete batch, each thread closes its own worker
            t.join(timeout=30 if completed else 5)


def _close(worker) -> None:
    if worker is not None:
        try:
            worker.close()
        except Exception:  # noqa: BLE001
            log.debug("closing a worker failed", exc_info=True)


def default_worker_factory() -> Callable:
    """The sandboxed Worker class."""
    try:
        from dlgrade.sandbox.worker import Worker
    except ImportError as exc:
        if exc.name not in ("dlgrade.sandbox.worker", None):
            raise
        raise DlgradeError("the grading sandbox (dlgrade.sandbox) is not available") from None
    return Worker


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def plan_devices(workers: int | None, device: str, gpu_jobs: int, n_jobs: int) -> list[str]:
    """One device per worker thread: ``cuda:i`` round robin over the GPUs, else ``device`` for all."""
    if workers is not None and workers < 1:
        raise DlgradeError(f"--workers must be at least 1, got {workers}")
    if gpu_jobs < 1:
        raise DlgradeError(f"gpu_jobs must be at least 1, got {gpu_jobs}")
    gpus = _cuda_count() if device in ("auto", "cuda") else 0
    if gpus:
        n = workers or gpus * gpu_jobs
        devices = [f"cuda:{i % gpus}" for i in range(n)]
    else:
        n = workers or max(1, usable_cores() // 2)
        devices = [device] * n
    return devices[:max(1, n_jobs)]


def _cuda_count() -> int:
    if "torch" not in sys.modules and not _has_nvidia():
        return 0  # no GPU driver: skip importing torch just to find out
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def _has_nvidia() -> bool:
    return Path("/proc/driver/nvidia").exists() or Path("/dev/nvidia0").exists()


def hidden_paths(paths, out: Path, course_root: Path) -> tuple[Path, ...]:
    """Folders the sandbox must not see: outputs, the hidden tests, the solutions, other submissions.

    A folder that holds Python or dlgrade itself cannot be hidden (the worker
    needs them); it is left out with a warning.
    """
    import dlgrade

    needed = [Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(), Path(dlgrade.__file__).resolve().parent]
    candidates = [Path(out).resolve(), course_root / "autograder", course_root / "solutions"]
    for p in map(Path, paths):
        candidates.append(p.resolve() if p.is_dir() else p.resolve().parent)
    hidden = []
    for c in dict.fromkeys(c.resolve() for c in candidates if c.exists()):
        if any(n == c or c in n.parents for n in needed):
            log.warning("%s holds the Python installation or dlgrade; it stays visible to the sandbox", c)
            continue
        hidden.append(c)
    return tuple(hidden)


class progress_bar:
    """A rich progress bar with ETA (or nothing); the context value is ``advance()``."""

    def __init__(self, enabled: bool, total: int, label: str):
        self.enabled, self.total, self.label = enabled, total, label
        self._bar = None

    def __enter__(self):
        if not self.enabled:
            return lambda: None
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                   TimeRemainingColumn)

        self._bar = Progress(TextColumn("grading {task.description}"), BarColumn(), MofNCompleteColumn(),
                             TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                             console=Console(stderr=True))
        self._bar.__enter__()
        task = self._bar.add_task(self.label, total=self.total)
        return lambda: self._bar.advance(task)

    def __exit__(self, *exc):
        if self._bar is not None:
            self._bar.__exit__(*exc)
        return False
