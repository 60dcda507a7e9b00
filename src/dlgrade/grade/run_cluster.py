"""Running a batch on a Dask cluster: one task per submission, only JSON comes back.

``dlgrade grade ... --cluster ADDRESS`` hands the submissions to
dask.distributed instead of local threads. Each Dask worker process hosts one
sandboxed grading :class:`~dlgrade.sandbox.worker.Worker` (its zygote loads the
profile's datasets once) on a thread of its own, so student code runs in the
sandbox's child processes and never in the Dask worker's own process. A task
returns the submission's result as a JSON string; this process (the client)
parses it and keeps the journal, resume and reports exactly as local grading
does.

* ``ADDRESS`` is a scheduler address (``tcp://host:8786``) or ``local:N`` for a
  :class:`~distributed.LocalCluster` of N single-threaded worker processes made
  for this call.
* The grading inputs (course folder, submissions, output folder) must be at the
  same paths on every Dask worker: a shared file system, as on a lab's servers
  or a SLURM cluster.
* ``resources`` (``{"GPU": 1}``) are Dask worker resources each task asks for,
  so GPU jobs land only on workers started with ``--resources GPU=1``.
* A Dask worker that dies mid-task has its tasks run again elsewhere by the
  scheduler; a task that still fails is left out of the journal (the next run
  grades it) and is never recorded twice.
"""
from __future__ import annotations

import json
import logging
import queue
import threading
from contextlib import contextmanager
from typing import Callable

from dlgrade.errors import DlgradeError

log = logging.getLogger(__name__)

LOCAL_PREFIX = "local:"


def _distributed():
    try:
        import distributed
    except ImportError:
        raise DlgradeError("grading on a cluster needs dask.distributed, which is not installed",
                           hint="pip install 'dlgrade[cluster]'") from None
    return distributed


@contextmanager
def connect(address: str, *, timeout: float = 30.0):
    """A Dask client for ``address`` (``local:N`` starts a local cluster of N processes for this call)."""
    distributed = _distributed()
    if address.startswith(LOCAL_PREFIX):
        text = address[len(LOCAL_PREFIX):]
        if not text.isdigit() or int(text) < 1:
            raise DlgradeError(f"--cluster {address!r}: expected local:N with N a whole number of at least 1")
        cluster = distributed.LocalCluster(n_workers=int(text), threads_per_worker=1, processes=True,
                                           dashboard_address=None, worker_dashboard_address=None,
                                           silence_logs=logging.ERROR)
        try:
            with distributed.Client(cluster) as client:
                yield client
        finally:
            cluster.close()
        return
    try:
        client = distributed.Client(address, timeout=timeout)
    except (OSError, TimeoutError) as exc:
        raise DlgradeError(f"could not reach the Dask scheduler at {address}: {exc}",
                           hint="start one with `dask scheduler` and workers with `dask worker ADDRESS`, "
                                "or use --cluster local:N") from None
    with client:
        yield client


def run_batch_cluster(todo: list, *, address: str, spec: dict, factory: Callable, options: dict, device: str,
                      on_done: Callable, resources: dict | None = None) -> int:
    """Grade each item of ``todo`` on the cluster at ``address``; ``on_done(job)`` runs here, once per
    finished submission. ``spec`` holds :func:`dlgrade.grade.pipeline.prepare`'s arguments (each Dask
    worker prepares the grading itself). Returns how many submissions could not be graded (left for
    the next run)."""
    from dlgrade.grade.job import Job

    distributed = _distributed()
    left = 0
    with connect(address) as client:
        client.register_plugin(_closing_plugin(distributed), name="dlgrade-close-worker")
        futures = {}
        for item in todo:
            fut = client.submit(grade_task, spec, item, factory, options, device, resources=resources or None,
                                pure=False, key=f"dlgrade-{spec['exercise']}-{item.sha256[:16]}-{item.result_name}")
            futures[fut] = item
        for fut in distributed.as_completed(list(futures)):
            item = futures.pop(fut)
            try:
                payload = json.loads(fut.result())
            except KeyboardInterrupt:
                raise
            except DlgradeError:
                client.cancel(list(futures))
                raise
            except Exception as exc:  # noqa: BLE001 - a lost worker or task: the next run grades it
                log.warning("%s was not graded on the cluster (%s: %s); a rerun grades it",
                            item.origin, type(exc).__name__, exc)
                left += 1
                continue
            job = Job(item)
            job.record = payload["record"]
            job.isolation = payload["isolation"]
            on_done(job)
    return left


# -- the Dask worker's side -----------------------------------------------------------------------

class _Host:
    """The grading Worker of this Dask worker process, owned by one long-lived thread.

    The sandbox's zygote lives as long as the thread that started it, so it gets
    a thread of its own rather than one of Dask's task threads.
    """

    def __init__(self):
        self.calls: queue.Queue = queue.Queue()
        self.worker = None
        self.key = None
        self.thread = threading.Thread(target=self._loop, daemon=True, name="dlgrade-host")
        self.thread.start()

    def _loop(self) -> None:
        while True:
            fn, reply = self.calls.get()
            try:
                reply.put((True, fn(self)))
            except BaseException as exc:  # noqa: BLE001 - handed back to the task
                reply.put((False, exc))

    def call(self, fn):
        reply: queue.Queue = queue.Queue()
        self.calls.put((fn, reply))
        ok, value = reply.get()
        if not ok:
            raise value
        return value

    def worker_for(self, key, make):
        if self.key != key or self.worker is None:
            self.drop()
            self.worker, self.key = make(), key
        return self.worker

    def drop(self) -> None:
        if self.worker is not None:
            try:
                self.worker.close()
            except Exception:  # noqa: BLE001
                log.debug("closing a grading worker failed", exc_info=True)
        self.worker = None


def _closing_plugin(distributed):
    """A Dask worker plugin that stops this module's grading Worker when the Dask worker shuts down."""

    class CloseGradingWorker(distributed.WorkerPlugin):
        def teardown(self, worker):
            from dlgrade.grade import run_cluster

            run_cluster.close_host()

    return CloseGradingWorker()


def close_host() -> None:
    """Stop this process's grading Worker, if any (its files and cgroup go with it)."""
    if _host is not None:
        _host.call(lambda h: h.drop())


_host: _Host | None = None
_gradings: dict = {}
_lock = threading.Lock()


def grade_task(spec: dict, item, factory: Callable, options: dict, device: str) -> str:
    """One submission, on a Dask worker: the result as JSON text (nothing else leaves)."""
    global _host
    from dlgrade.grade.pipeline import grade_one, prepare

    key = json.dumps(spec, sort_keys=True, default=str)
    with _lock:
        if key not in _gradings:
            _gradings[key] = prepare(**spec)
        grading = _gradings[key]
        if _host is None:
            _host = _Host()
        host = _host
    worker_key = (key, repr(sorted(options.items())), device)

    def run(h: _Host):
        worker = h.worker_for(worker_key, lambda: factory(**options, device=device))
        job = grade_one(item, worker, grading=grading)
        if job.worker_broken:
            h.drop()
        return json.dumps({"record": job.record, "isolation": job.isolation})

    return host.call(run)
