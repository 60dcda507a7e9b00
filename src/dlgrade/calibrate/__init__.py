"""Thresholds from the reference solution, reported as a distribution.

``main("ablation", profile="quick", seeds=5)`` runs the reference solution's
hidden tests with training seeds 0..4, collects every measurement a test
compares with a threshold (``t.at_least`` / ``t.at_most``), and writes
``autograder/<ex>/thresholds/<profile>.yaml`` with, per measurement, the mean,
std and n next to the pass mark::

    value = mean - k * std - margin     (for "at least" measurements)
    value = mean + k * std + margin     (for "at most" measurements)

Entries whose ``how`` starts with ``fixed`` are set by the exercise's author
(e.g. "at least 8 of 10 seeds") and kept as they are. ``check=True`` verifies
instead that the reference still earns full marks and the untouched student
notebook earns nothing.
"""
from __future__ import annotations

import math
import os
import statistics
from dataclasses import dataclass
from pathlib import Path

import yaml

from dlgrade.errors import DlgradeError
from dlgrade.harness.course import find_course, read_yaml
from dlgrade.harness.local import run_trusted

__all__ = ["main", "Calibration", "verify"]


@dataclass(frozen=True)
class Calibration:
    """One measurement over the reference runs and the pass mark derived from it."""

    name: str
    bound: str
    """"min" (needs >=) or "max" (needs <=)."""
    values: tuple[float, ...]
    value: float
    how: str

    @property
    def mean(self) -> float:
        return statistics.fmean(self.values)

    @property
    def std(self) -> float:
        return statistics.stdev(self.values) if len(self.values) > 1 else 0.0


def main(exercise: str, *, profile: str = "quick", seeds: int = 5, k: float = 3.0,
         margin: float | None = None, course: str | Path | None = None, check: bool = False,
         write: bool = True, progress=None):
    """Calibrate (or with ``check``, verify) the thresholds of ``exercise`` under ``profile``."""
    ex = find_course(course).exercise(exercise)
    if check:
        return verify(ex, profile=profile, seeds=min(seeds, 2), progress=progress)
    if seeds < 2:
        raise DlgradeError("calibration needs at least 2 seeds to estimate a spread")
    margin = float(ex.profile(profile).params.get("calibration_margin", 0.02) if margin is None else margin)
    runs = []
    for seed in range(seeds):
        runs.append(run_trusted(ex, ex.solution_path, profile=profile, train_seed=seed, calibrating=True))
        if progress:
            progress(seed + 1, seeds)
    calibrations = summarise(runs, k=k, margin=margin)
    if write:
        write_thresholds(ex.thresholds_path(profile), calibrations,
                         command=f"dlgrade calibrate {exercise} --profile {profile} --seeds {seeds}")
    return calibrations


def summarise(runs, *, k: float, margin: float) -> list[Calibration]:
    """Pass marks from the measurements of several reference runs."""
    values: dict[str, list[float]] = {}
    bounds: dict[str, str] = {}
    for results in runs:
        for r in results:
            for name, bound in r.bounds.items():
                values.setdefault(name, []).append(r.measurements[name])
                bounds[name] = bound
    out = []
    for name in sorted(values):
        vals = [v for v in values[name] if math.isfinite(v)]
        if not vals:
            raise DlgradeError(f"measurement '{name}' was never finite in the reference runs")
        mean = statistics.fmean(vals)
        std = statistics.stdev(vals) if len(vals) > 1 else 0.0
        sign = -1 if bounds[name] == "min" else 1
        value = mean + sign * (k * std + margin)
        how = (f"reference mean {'-' if sign < 0 else '+'} {k:g} std {'-' if sign < 0 else '+'} "
               f"{margin:g} over {len(vals)} seeded runs")
        out.append(Calibration(name, bounds[name], tuple(vals), round(value, 4), how))
    return out


def write_thresholds(path: Path, calibrations: list[Calibration], *, command: str) -> None:
    """Merge new pass marks into ``path``, keeping entries fixed by the author."""
    import torch

    from dlgrade import __version__

    existing = read_yaml(path) if path.exists() else {}
    data = {k: v for k, v in existing.items() if isinstance(v, dict) and str(v.get("how", "")).startswith("fixed")}
    for c in calibrations:
        if c.name in data:
            continue
        data[c.name] = {"value": c.value, "how": c.how, "mean": round(c.mean, 4),
                        "std": round(c.std, 4), "n": len(c.values)}
    header = (f"# Pass marks for this profile. Written by: {command}\n"
              f"# (dlgrade {__version__}, torch {torch.__version__.split('+')[0]}).\n")
    if path.exists():  # the author's notes (what data, which machine) stay
        notes = [line for line in path.read_text(encoding="utf-8").splitlines()
                 if line.startswith("#") and not line.startswith(("# Pass marks", "# (dlgrade"))]
        header += "".join(f"{line}\n" for line in notes)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".yaml.tmp")
    tmp.write_text(header + yaml.safe_dump(dict(sorted(data.items())), sort_keys=False), encoding="utf-8")
    tmp.replace(path)


@dataclass(frozen=True)
class Verification:
    """Outcome of ``calibrate --check``."""

    reference: list
    """Per seed: (earned, max) of the reference solution."""
    untouched: tuple
    """(earned, max) of the untouched student notebook."""
    shared_draws: tuple[str, ...] = ()
    """Where the hidden tests drew from torch's process-wide generator outside ``seeded`` while grading
    the reference (``run_trusted``'s ``shared_draws``): with ``--workers`` such a draw can change what
    another grading thread's dropout network learns. Reported, not a failure."""

    @property
    def ok(self) -> bool:
        return all(e == m for e, m in self.reference) and self.untouched[0] == 0


def verify(ex, *, profile: str, seeds: int = 2, progress=None) -> Verification:
    """Does the reference still pass with full marks, and the template earn 0?"""
    reference, draws = [], []
    for seed in range(seeds):
        results = run_trusted(ex, ex.solution_path, profile=profile, train_seed=seed, shared_draws=draws)
        reference.append((sum(r.earned for r in results), sum(r.points for r in results)))
        if progress:
            progress(seed + 1, seeds + 1)
    results = run_trusted(ex, ex.template_path, profile=profile, student_id="untouched")
    untouched = (sum(r.earned for r in results), sum(r.points for r in results))
    course = f"{Path(ex.root).resolve()}{os.sep}"      # paths in the course, relative to it
    return Verification(reference, untouched, tuple(dict.fromkeys(d.replace(course, "") for d in draws)))
