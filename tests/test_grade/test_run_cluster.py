"""Grading on a Dask cluster gives what local grading gives, and a lost Dask worker loses nothing.

The cluster is a ``LocalCluster`` of worker processes (``--cluster local:N``, or
one started here so that a worker can be killed); each hosts the real sandboxed
grading worker, so these tests need the sandbox as the other sandbox tests do.
"""
from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from builders import GOOD_ADD, write_submission, template_of
from dlgrade.errors import DlgradeError
from dlgrade.grade import main
from dlgrade.grade.run_cluster import connect
from sandbox_required import sandbox_required  # noqa: F401 - the fixture

distributed = pytest.importorskip("distributed", reason="dask.distributed is part of the dev install")

REPO = Path(__file__).resolve().parents[2]


def _batch(course: Path, folder: Path, n: int, *, sleep: float = 0.0) -> list[Path]:
    """``n`` tiny submissions, each different (so each has its own result), optionally slow to run."""
    template = template_of(course)
    paths = []
    for i in range(n):
        add = (f"import time\ntime.sleep({sleep})\n" if sleep else "") + GOOD_ADD + f"\nSTUDENT = {i}"
        predict = ("def predict(X):\n    return (X[:, 0] > X[:, 1] + 0.0).astype(int)" if i % 2 else
                   "def predict(X):\n    return (X[:, 0] > 0).astype(int)")
        paths.append(write_submission(template, folder / f"student{i}.ipynb", add=add, predict=predict))
    return paths


def _results(out: Path) -> dict:
    """Each result JSON without what legitimately varies between runs (timings, seconds)."""
    def drop_times(value):
        if isinstance(value, dict):
            return {k: drop_times(v) for k, v in value.items() if k not in ("timings", "seconds")}
        if isinstance(value, list):
            return [drop_times(v) for v in value]
        return value

    return {path.name: drop_times(json.loads(path.read_text())) for path in sorted((out / "results").glob("*.json"))}


@pytest.mark.slow
@pytest.mark.exhaustive   # make test runs the xor case below, which covers the same ground with training
def test_cluster_gives_the_local_gradebook(course, tmp_path, sandbox_required):
    """Does a batch graded on a local Dask cluster of two processes give the same gradebook and
    the same measurements, byte for byte, as the same batch graded locally?"""
    subs = tmp_path / "subs"
    _batch(course, subs, 4)
    local = main([subs], exercise="tiny", course=course, out=tmp_path / "local", progress=False, workers=1)
    dask = main([subs], exercise="tiny", course=course, out=tmp_path / "dask", progress=False,
                cluster="local:2")
    assert dask.graded == local.graded == 4
    assert "bubblewrap" in dask.isolation
    assert (dask.out / "gradebook.csv").read_text() == (local.out / "gradebook.csv").read_text()
    assert _results(dask.out) == _results(local.out)


@pytest.mark.slow
def test_xor_samples_on_a_cluster_match_local(tmp_path, sandbox_required):
    """Does the xor exercise (a network trained by the grader) give the same gradebook and
    measurements on ``--cluster local:2`` as locally?"""
    samples = tmp_path / "samples"
    samples.mkdir()
    for name in ("reference.ipynb", "frozen-bias.ipynb"):
        (samples / name).write_bytes((REPO / "autograder" / "xor" / "samples" / name).read_bytes())
    local = main([samples], exercise="xor", course=REPO, out=tmp_path / "local", progress=False, workers=1)
    dask = main([samples], exercise="xor", course=REPO, out=tmp_path / "dask", progress=False,
                cluster="local:2")
    assert dask.graded == local.graded == 2
    assert "bubblewrap" in dask.isolation and "bubblewrap" in local.isolation
    assert (dask.out / "gradebook.csv").read_text() == (local.out / "gradebook.csv").read_text()
    assert _results(dask.out) == _results(local.out)
    assert local.mean_percent > 0


@pytest.mark.slow
def test_killed_dask_worker_loses_nothing(course, tmp_path, sandbox_required):
    """When a Dask worker is killed mid-batch, is every submission still graded exactly once
    (its tasks rerun elsewhere, or graded by the next run), with nothing recorded twice?"""
    subs = tmp_path / "subs"
    _batch(course, subs, 6, sleep=1.5)
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, worker_dashboard_address=None)
    try:
        with distributed.Client(cluster) as client:
            pids = list(client.run(os.getpid).values())
        journal = tmp_path / "out" / "tiny" / "journal.jsonl"

        def kill_one_when_started() -> None:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                if journal.exists() and journal.read_text().count("\n") >= 1:
                    os.kill(pids[0], signal.SIGKILL)
                    return
                time.sleep(0.1)

        killer = threading.Thread(target=kill_one_when_started, daemon=True)
        killer.start()
        first = main([subs], exercise="tiny", course=course, out=tmp_path / "out", progress=False,
                     cluster=cluster.scheduler_address)
        killer.join(5)
        second = main([subs], exercise="tiny", course=course, out=tmp_path / "out", progress=False,
                      cluster=cluster.scheduler_address)
    finally:
        cluster.close()
    assert first.graded == 6
    assert second.graded + second.resumed == 6 and second.statuses == {"graded": 6}
    lines = [json.loads(line) for line in journal.read_text().splitlines() if line.strip()]
    assert len(lines) == 6, "each submission is recorded exactly once"
    assert len(list((first.out / "results").glob("*.json"))) == 6


def test_unreachable_scheduler_is_one_clear_error(course, tmp_path):
    """Does a scheduler address where nothing listens give one DlgradeError that names it?"""
    with pytest.raises(DlgradeError, match="127.0.0.1:9"):
        with connect("tcp://127.0.0.1:9", timeout=2):
            pass


@pytest.mark.parametrize("address", ["local:0", "local:two", "local:"])
def test_bad_local_cluster_size(address):
    """Is a local cluster size that is not a positive whole number refused with the address quoted?"""
    with pytest.raises(DlgradeError, match="local:N"):
        with connect(address):
            pass
