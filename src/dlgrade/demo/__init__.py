"""The main job, end to end: grade the bundled sample submissions of every exercise.

Each exercise ships sample submissions in ``autograder/<ex>/samples/`` (the
reference solution, the untouched student notebook, realistic flawed
submissions) with the score range each must land in
(``samples/expected.yaml``). The demo grades them all with the quick profile on
the embedded data, offline, writes the gradebooks, feedback and summaries, and
says whether every sample landed where expected. The samples are graded in the
bubblewrap sandbox where it can start; elsewhere (they are the course's own
files) unsandboxed, after saying so.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from dlgrade.errors import DlgradeError
from dlgrade.harness.course import find_course, read_yaml

__all__ = ["main", "SampleOutcome"]


@dataclass(frozen=True)
class SampleOutcome:
    """One sample submission: its score and the range it should land in."""

    exercise: str
    sample: str
    score: float
    max_points: float
    expected_min: float
    expected_max: float

    @property
    def ok(self) -> bool:
        return self.expected_min <= self.score <= self.expected_max


def expected_ranges(samples_dir: Path) -> dict[str, tuple[float, float]]:
    """``samples/expected.yaml`` as file name -> (min, max)."""
    path = samples_dir / "expected.yaml"
    out = {}
    for name, spec in read_yaml(path).items():
        if not (isinstance(spec, dict) and "min" in spec and "max" in spec):
            raise DlgradeError(f"{path}: entry '{name}' needs 'min' and 'max'")
        out[name] = (float(spec["min"]), float(spec["max"]))
    return out


def main(*, out: Path = Path("dlgrade-demo"), exercises: list[str] | None = None, course=None,
         workers: int | None = None, regrade: bool = True, progress: bool = True, report=None,
         sandbox: str | None = None):
    """Grade every exercise's samples; returns (list of SampleOutcome, list of BatchSummary).

    ``report(summary)`` is called after each exercise (the CLI prints it). ``sandbox``: None
    for the sandbox where it can start, else unsandboxed with a warning on stderr.
    """
    import sys

    from dlgrade.grade import main as grade
    from dlgrade.sandbox import sandbox_problem

    if sandbox is None:
        problem = sandbox_problem()
        sandbox = "none" if problem else "bwrap"
        if problem:
            print(f"warning: the grading sandbox cannot start here ({problem}); the demo grades its bundled "
                  "samples UNSANDBOXED. Real submissions are never graded so unless you pass --sandbox none.",
                  file=sys.stderr)

    found = find_course(course)
    ids = exercises or [e for e in found.exercise_ids() if (found.root / "autograder" / e / "samples").is_dir()]
    if not ids:
        raise DlgradeError(f"{found.root}: no exercise has sample submissions")
    outcomes, summaries = [], []
    for ex_id in ids:
        samples_dir = found.exercise(ex_id).samples_dir
        ranges = expected_ranges(samples_dir)
        summary = grade([samples_dir], exercise=ex_id, profile="quick", workers=workers, out=Path(out),
                        regrade=regrade, course=found.root, progress=progress, sandbox=sandbox)
        summaries.append(summary)
        if report:
            report(summary)
        for result in sorted((summary.out / "results").glob("*.json")):
            record = json.loads(result.read_text())
            name = Path(record["file"]).name
            lo, hi = ranges.get(name, (float("-inf"), float("inf")))
            outcomes.append(SampleOutcome(ex_id, name, float(record["score"] or 0), float(record["max_points"]), lo, hi))
    return outcomes, summaries
