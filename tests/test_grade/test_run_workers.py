"""Parallel workers: devices, GPU slots, and errors that stop a batch."""
from __future__ import annotations

import threading
import time

import pytest

from dlgrade.errors import DlgradeError
from dlgrade.grade import run_workers
from dlgrade.grade.journal import Journal
from fake_worker import FakeWorker


def test_devices_round_robin_over_gpus(monkeypatch):
    """With 2 GPUs, is the default one worker per GPU slot, and are extra workers spread over the GPUs?"""
    monkeypatch.setattr(run_workers, "_cuda_count", lambda: 2)
    assert run_workers.plan_devices(None, "auto", 1, 100) == ["cuda:0", "cuda:1"]
    assert run_workers.plan_devices(None, "auto", 2, 100) == ["cuda:0", "cuda:1", "cuda:0", "cuda:1"]
    assert run_workers.plan_devices(3, "auto", 1, 100) == ["cuda:0", "cuda:1", "cuda:0"]
    assert run_workers.plan_devices(None, "cpu", 1, 100) == ["cpu"] * max(1, run_workers.usable_cores() // 2)
    assert run_workers.plan_devices(8, "cpu", 1, 3) == ["cpu"] * 3  # never more workers than submissions
    with pytest.raises(DlgradeError):
        run_workers.plan_devices(0, "cpu", 1, 3)


def test_one_job_at_a_time_per_gpu():
    """With two workers on one GPU, does only one submission run on it at a time?"""
    running, peak, lock = [0], [0], threading.Lock()

    def grade(item, worker):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return type("Job", (), {"worker_broken": False, "item": item})()

    done = []
    run_workers.run_batch(list(range(6)), grade, devices=["cuda:0", "cuda:0"], gpu_jobs=1,
                          factory=FakeWorker, options={}, on_done=done.append)
    assert len(done) == 6 and peak[0] == 1


def test_sandbox_that_cannot_start_stops_the_batch(grade, make_submission):
    """When the sandbox cannot run notebooks at all, does the batch stop with the error instead of writing zeros?"""
    class Broken(FakeWorker):
        def open(self, nb, *, student_id, **kw):
            if student_id == "b":
                raise DlgradeError("the grading worker could not start")
            return super().open(nb, student_id=student_id, **kw)

    paths = [make_submission(f"{n}.ipynb") for n in "abc"]
    with pytest.raises(DlgradeError, match="could not start"):
        grade(paths, worker_factory=Broken)
    summary_dir = paths[0].parents[1] / "out" / "tiny"
    assert [e["student_id"] for e in Journal(summary_dir / "journal.jsonl").entries()] == ["a"]
    assert not (summary_dir / "gradebook.csv").exists()
    assert grade(paths).graded == 2  # a rerun with a working sandbox resumes
