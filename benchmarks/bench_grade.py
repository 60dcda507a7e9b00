"""Grading benchmark: per-submission overhead and throughput of ``dlgrade.grade`` with 1 and 2 workers.

Grades N copies of an exercise's sample submissions (each copy a separate
student) with the quick profile, in the real sandboxed worker, once per worker
count, and prints

* **overhead per submission**: everything except training (reading,
  sanitizing, running the notebook in the sandbox, the hidden tests' requests,
  scoring), i.e. each result's ``timings.total - timings.train``: the median
  (the first submission of each worker also waits for the worker to start),
  and the batch's wall time minus training over N, which also counts starting
  the workers, writing results and the reports. Training is the grader's own,
  the ``train`` requests, and the student's functions that fit a model (called
  with ``trains=True``);
* **where the overhead goes** (medians over the submissions, from each
  result's ``timings``): ``execute`` (starting the submission's process and
  running the notebook's cells), ``requests`` (waiting for the student's side
  to answer the hidden tests' requests, training left out), ``exchange``
  (encoding and decoding the values that cross, arrays included),
  ``integrity`` (the integrity checks after each question), ``tests`` (the
  hidden tests' own work on the grader's side: held-out sets, rebuilding
  networks), ``score`` (the grader scoring the networks it trained on its
  held-out set: model compute, like training), ``close`` (stopping the process, emptying its
  folders) and ``rest`` (reading and sanitizing the notebook, figures,
  scoring); per batch, ``results`` (writing each result JSON and its journal
  line, per submission) and ``reports`` (gradebook, feedback, summary);
* **throughput** in submissions per second: over the whole batch, and steady
  (workers started: from the first worker's first result to the last result,
  by the result files' times); the speed-up of 2 workers over 1 for both.

Targets: overhead <= 0.5 s per submission, 2 workers >= 1.7x one.

    python benchmarks/bench_grade.py [--exercise EX --course DIR] [--copies 8] [--workers 1 2] [--cluster 1 2]

``--cluster N ...`` also grades the batch on a local Dask cluster of N worker
processes (``--cluster local:N``) for each N and prints submissions per minute
next to the local runs, with the ratio of each to one local worker.

Without ``--exercise`` it grades the tiny purpose-made exercise of the test
suite (``tests/test_grade/tiny_course``: no training, so all of it is overhead).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

from dlgrade.harness.course import find_course

TINY = Path(__file__).resolve().parents[1] / "tests" / "test_grade" / "tiny_course"
PARTS = ("execute", "requests", "exchange", "integrity", "tests", "score", "close", "rest")
"""The parts of the overhead (see the module docstring), in the order printed."""


def breakdown(timings: dict) -> dict:
    """One result's ``timings`` as the parts of :data:`PARTS` (seconds; they add up to total - train)."""
    get = timings.get
    parts = {"execute": get("execute_notebook", 0.0), "requests": get("requests", 0.0),
             "exchange": get("exchange", 0.0), "integrity": get("integrity", 0.0),
             "close": get("close", 0.0), "score": get("score", 0.0)}
    parts["tests"] = max(0.0, get("run_tests", 0.0) - get("train", 0.0) - parts["requests"] - parts["exchange"]
                         - parts["integrity"] - parts["score"])
    parts["rest"] = max(0.0, get("total", 0.0) - get("train", 0.0) - sum(parts.values()))
    return parts


def copies(samples: list[Path], n: int, folder: Path) -> int:
    """``n`` copies of each sample in ``folder``, each named as a different student."""
    folder.mkdir(parents=True)
    for sample in samples:
        nb = json.loads(sample.read_text(encoding="utf-8"))
        for i in range(n):
            student = f"{sample.stem}-{i:03d}"
            nb.setdefault("metadata", {}).setdefault("dlgrade", {})["student_id"] = student
            (folder / f"{student}.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    return len(samples) * n


def run(folder: Path, out: Path, *, exercise: str, course: Path, profile: str, workers: int,
        cluster: bool = False) -> dict:
    from dlgrade.grade import main

    where = {"cluster": f"local:{workers}"} if cluster else {"workers": workers}
    load = os.getloadavg()[0]
    start = time.perf_counter()
    summary = main([folder], exercise=exercise, course=course, profile=profile, out=out,
                   regrade=True, progress=False, **where)
    wall = time.perf_counter() - start
    files = sorted((summary.out / "results").glob("*.json"), key=lambda p: p.stat().st_mtime)
    records = [json.loads(p.read_text()) for p in files]
    done = [p.stat().st_mtime for p in files]
    totals = [r["timings"]["total"] for r in records]
    train = [r["timings"].get("train", 0.0) for r in records]
    n = len(records)
    overhead = [t - tr for t, tr in zip(totals, train)]
    parts = [breakdown(r["timings"]) for r in records]
    steady = (n - workers) / (done[-1] - done[workers - 1]) if n > workers else float("nan")
    return {"workers": workers, "where": "dask" if cluster else "local", "n": n, "wall": wall,
            "load": f"{load:.1f}-{os.getloadavg()[0]:.1f}",
            "isolation": summary.isolation,
            "overhead": statistics.median(overhead), "overhead_max": max(overhead),
            "harness": statistics.median(o - r["timings"].get("score", 0.0) for o, r in zip(overhead, records)),
            "batch_overhead": (wall - sum(train)) / n, "train": statistics.fmean(train),
            "throughput": n / wall, "steady": steady, "statuses": summary.statuses,
            "mean_percent": summary.mean_percent,
            "parts": {k: statistics.median(p[k] for p in parts) for k in PARTS},
            "results": summary.timings.get("results", 0.0) / max(1, n), "reports": summary.timings.get("reports", 0.0),
            "scores": {r["student_id"]: [q["earned"] for q in r["questions"]] for r in records}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--exercise", help="exercise id (default: the test suite's tiny exercise)")
    parser.add_argument("--course", type=Path, help="course folder (default: found as dlgrade finds it)")
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--copies", type=int, default=8, help="copies of each sample submission")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--cluster", type=int, nargs="*", default=[],
                        help="also grade on a local Dask cluster of this many worker processes")
    args = parser.parse_args()
    exercise, course = (args.exercise, args.course) if args.exercise else ("tiny", TINY)
    ex = find_course(course).exercise(exercise)
    samples = sorted(ex.samples_dir.glob("*.ipynb"))
    if not samples:
        raise SystemExit(f"no sample submissions in {ex.samples_dir}")
    with tempfile.TemporaryDirectory(prefix="bench-grade-") as tmp:
        n = copies(samples, args.copies, Path(tmp) / "submissions")
        print(f"{exercise}: {len(samples)} samples x {args.copies} copies = {n} submissions, profile "
              f"{args.profile}; {platform.python_version()}, {os.cpu_count()} CPUs visible, "
              f"{len(os.sched_getaffinity(0))} usable, load average {os.getloadavg()[0]:.1f}")
        rows = [run(Path(tmp) / "submissions", Path(tmp) / f"out-{w}", exercise=exercise, course=ex.root,
                    profile=args.profile, workers=w) for w in args.workers]
        rows += [run(Path(tmp) / "submissions", Path(tmp) / f"out-dask-{w}", exercise=exercise, course=ex.root,
                     profile=args.profile, workers=w, cluster=True) for w in args.cluster]
    print(f"isolation: {rows[0]['isolation']}")
    print(f"statuses: {rows[0]['statuses']}, mean score {rows[0]['mean_percent']:.1f}%")
    print(f"{'where':>6} {'workers':>7} {'wall s':>7} {'subs/min':>8} {'steady subs/s':>14} "
          f"{'overhead s/sub (median, max)':>29} {'batch s/sub':>12} {'train s/sub':>12}")
    for r in rows:
        print(f"{r['where']:>6} {r['workers']:>7} {r['wall']:>7.1f} {60 * r['throughput']:>8.1f} "
              f"{r['steady']:>14.2f} {r['overhead']:>21.2f}, {r['overhead_max']:<5.1f} "
              f"{r['batch_overhead']:>12.2f} {r['train']:>12.2f}")
    print("where the overhead goes, s/sub (median of each part; the medians need not add up to the median "
          "overhead):")
    print(f"{'where':>6} {'workers':>7} " + " ".join(f"{k:>9}" for k in PARTS)
          + f" {'overhead':>9} {'harness':>8} {'results':>8} {'reports s':>10} {'load avg':>10}")
    for r in rows:
        print(f"{r['where']:>6} {r['workers']:>7} " + " ".join(f"{r['parts'][k]:>9.3f}" for k in PARTS)
              + f" {r['overhead']:>9.3f} {r['harness']:>8.3f} {r['results']:>8.3f} {r['reports']:>10.2f}"
              f" {r['load']:>10}")
    print("(overhead: everything but training; harness: the overhead less score, the grader's own scoring "
          "of the networks it trained)")
    if any(r["scores"] != rows[0]["scores"] for r in rows[1:]):
        print("warning: the runs gave different scores")
    digest = hashlib.sha256(json.dumps(rows[0]["scores"], sort_keys=True).encode()).hexdigest()[:16]
    print(f"points of every question of every submission: digest {digest} (compare between versions)")
    base = rows[0]
    for r in rows[1:]:
        print(f"speed-up {r['where']} {r['workers']} workers vs {base['where']} {base['workers']}: "
              f"{r['throughput'] / base['throughput']:.2f}x (batch), {r['steady'] / base['steady']:.2f}x (steady)")


if __name__ == "__main__":
    main()
