"""The speed of each grading route, side by side: dlgrade grade, nbgrader autograde, otter run, Gradescope.

Grades the same N submissions (default 20) of each exercise through every
route of :mod:`dlgrade.export.crosscheck` on this machine, with the real tools:

* ``dlgrade``: ``dlgrade grade`` on the batch (sandboxed when bubblewrap works);
* ``nbgrader``: ``nbgrader autograde`` on the batch (one kernel per notebook);
* ``otter``: ``otter run`` per notebook (one kernel per notebook, no container);
* ``gradescope``: the exported zip's ``run_autograder`` per notebook (``dlgrade grade``
  of one notebook in a fresh process, as Gradescope's container would).

The submissions are the exercise's samples (reference, mistakes) cycled to N,
each copy a separate student; the export, ``generate_assignment`` and
``otter assign`` are not timed. Prints seconds per submission per route and the
ratio of each route to ``dlgrade grade``, and checks that every route gave the
same points per code question.

    python benchmarks/bench_platforms.py [--exercises xor confusion] [-n 20]
                                         [--routes dlgrade nbgrader otter gradescope]

Each kernel gets ``OMP_NUM_THREADS`` (default 1, ``--threads``), as ``dlgrade grade``
gives each sandboxed worker its share of the cores.
"""
from __future__ import annotations

import argparse
import os
import platform
import tempfile
from pathlib import Path

from dlgrade.export.crosscheck import ROUTES
from dlgrade.export.parts import read_parts
from dlgrade.harness.course import find_course


def submissions(exercise: str, n: int) -> dict:
    """``n`` notebooks: the samples (untouched left out) cycled, each under its own student id."""
    ex = find_course().exercise(exercise)
    samples = sorted(p for p in ex.samples_dir.glob("*.ipynb") if p.stem != "untouched")
    return {f"s{i:03d}-{samples[i % len(samples)].stem}": samples[i % len(samples)] for i in range(n)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--exercises", nargs="+", default=["xor", "confusion"])
    parser.add_argument("-n", type=int, default=20, help="submissions per exercise")
    parser.add_argument("--routes", nargs="+", default=list(ROUTES), choices=list(ROUTES))
    parser.add_argument("--threads", default="1", help="OMP_NUM_THREADS for every grading process")
    args = parser.parse_args()
    os.environ["OMP_NUM_THREADS"] = args.threads
    print(f"{platform.node()}: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f} at start; "
          f"{args.n} submissions per exercise; OMP_NUM_THREADS={args.threads}", flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-platforms-") as tmp:
        for exercise in args.exercises:
            notebooks = submissions(exercise, args.n)
            manual = {q.id for q in read_parts(exercise).questions if q.manual}
            base = None
            for name in sorted(args.routes, key=lambda r: r != "dlgrade"):   # dlgrade first: the baseline
                route = ROUTES[name](exercise, notebooks, work=Path(tmp) / exercise / name)
                if name == "dlgrade":
                    base = route
                same = "-"
                if base is not None and name != "dlgrade":
                    same = "yes" if all({q: p for q, p in route.points[s].items() if q in base.points[s]
                                         and q not in manual}
                                        == {q: p for q, p in base.points[s].items() if q not in manual}
                                        for s in notebooks) else "NO"
                per = route.seconds / len(notebooks)
                ratio = f"{per / (base.seconds / len(notebooks)):.2f}x" if base else "-"
                rows.append((exercise, name, len(notebooks), route.seconds, per, ratio, same))
                print(f"{exercise} {name}: {route.seconds:.1f} s, {per:.2f} s / submission, {ratio}, "
                      f"same points: {same}; load {os.getloadavg()[0]:.1f}", flush=True)
            print(f"load {os.getloadavg()[0]:.1f} after {exercise}", flush=True)
    print()
    print("| exercise | route | submissions | seconds | s / submission | vs dlgrade grade | same points |")
    print("|---|---|---|---|---|---|---|")
    for exercise, name, n, seconds, per, ratio, same in rows:
        print(f"| {exercise} | {name} | {n} | {seconds:.1f} | {per:.2f} | {ratio} | {same} |")


if __name__ == "__main__":
    main()
