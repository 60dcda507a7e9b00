"""Parallel workers: devices, GPU slots, and errors that stop a batch."""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from dlgrade.errors import DlgradeError
from dlgrade.grade import run_workers
from dlgrade.grade.journal import Journal
from dlgrade.sandbox import WorkerFailure
from fake_worker import FakeWorker
from sandbox_required import require_sandbox

REPO = Path(__file__).resolve().parents[2]


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


def test_worker_failure_marks_one_submission_and_the_batch_goes_on(grade, make_submission, read_result):
    """When the sandbox fails on one submission (twice, on the grader's side), is that submission alone
    marked, named, with a fresh worker for the next, and does the batch finish?"""
    class Failing(FakeWorker):
        def open(self, nb, *, student_id, **kw):
            if student_id == "b":
                raise WorkerFailure("the sandbox failed twice before running any cell of this notebook")
            return super().open(nb, student_id=student_id, **kw)

    before = len(FakeWorker.created)
    summary = grade([make_submission(f"{n}.ipynb") for n in "abc"], worker_factory=Failing)
    assert summary.graded == 3 and summary.statuses.get("grader_error") == 1
    assert "failed twice" in read_result(summary, "b")["problem"]["message"]
    assert read_result(summary, "c")["percent"] == 100
    assert len(FakeWorker.created) - before == 2  # replaced after the failure


@pytest.mark.slow
@pytest.mark.parametrize("exercise, sample, other", [("ablation", "reference", "lr10"),
                                                     ("cifar", "softmax_cnn", "reference")])
def test_measurements_do_not_depend_on_how_the_batch_runs(tmp_path, exercise, sample, other):
    """Does a training-heavy sample get exactly the same measurements and score graded alone, in a
    batch with one worker and in a batch with two workers (fixed threads per profile)? (cifar's
    softmax_cnn once scored 13/20 or 14/20 depending on --workers.)"""
    require_sandbox()
    from dlgrade.grade import main

    samples = REPO / "autograder" / exercise / "samples"
    batch = [samples / f"{sample}.ipynb", samples / f"{other}.ipynb"]

    def measured(name: str, paths: list, workers: int) -> list:
        summary = main(paths, exercise=exercise, course=REPO, out=tmp_path / name, workers=workers,
                       progress=False)
        result = next(r for r in map(json.loads, map(Path.read_text, (summary.out / "results").glob("*.json")))
                      if r["file"].endswith(f"{sample}.ipynb"))
        return [(q["id"], q["earned"], q["measurements"], [(c["passed"], c["detail"]) for c in q["checks"]])
                for q in result["questions"]]

    alone = measured("alone", batch[:1], 1)
    if exercise == "ablation":  # the cheap one also goes through a batch on one worker
        assert measured("one-worker", batch, 1) == alone
    assert measured("two-workers", batch, 2) == alone
