"""Where a course lives on disk, and the specs of its exercises.

A course is a folder with ``assignments/`` (student notebooks), ``solutions/``
(reference notebooks), ``autograder/`` (hidden tests, thresholds, rubrics) and
``quizzes/``. Each exercise ``<ex>`` has ``autograder/<ex>/exercise.yaml``::

    title: XOR and the perceptron
    notebook: xor.ipynb          # file name in assignments/<ex>/ and solutions/<ex>/
    profiles:
      quick:                     # CPU, embedded data, small budget
        time_limit: 120          # seconds to run the notebook's cells
        request_timeout: 60      # seconds for one request of a hidden test
        data: {mnist: {source: embedded}}
        recipes:
          mlp: {optimizer: adam, lr: 0.001, batch_size: 64, epochs: 1}

and ``autograder/<ex>/thresholds/<profile>.yaml`` written by ``dlgrade calibrate``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from dlgrade.errors import SpecError
from dlgrade.yamlfile import load_yaml

PROFILES = ("quick", "full")


def read_yaml(path: Path) -> dict:
    """A YAML mapping from ``path``; SpecError naming the file when it is not one."""
    data = load_yaml(path)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SpecError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    return data


def _field(d: dict, key: str, kind, where: str, default=...):
    if key not in d:
        if default is ...:
            raise SpecError(f"{where}: missing field '{key}'")
        return default
    value = d[key]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind in (int, float) and isinstance(value, bool)):
        name = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise SpecError(f"{where}: field '{key}' should be {name}, got {value!r}")
    return value


def _no_unknown(d: dict, allowed: set, where: str) -> None:
    unknown = sorted(set(d) - allowed)
    if unknown:
        raise SpecError(f"{where}: unknown field(s) {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})")


LIMIT_FIELDS = {"memory_mb": 256, "processes": 16, "cpu_seconds": 1}
"""Resource limits a profile may set, with the least value accepted."""


@dataclass(frozen=True)
class Profile:
    """How an exercise is graded under one profile (quick or full)."""

    name: str
    time_limit: float
    """Seconds allowed to run the notebook's cells."""
    request_timeout: float
    """Default seconds for one request of a hidden test."""
    data: dict = field(default_factory=dict)
    """Per dataset name, the keyword options for ``dlgrade.data.load``."""
    recipes: dict = field(default_factory=dict)
    """Named training recipes (dicts accepted by ``dlgrade.train.Recipe.from_dict``)."""
    params: dict = field(default_factory=dict)
    """Free-form numbers a test reads (seeds to try, subset sizes, ...)."""
    threads: int = 1
    """torch and BLAS threads of each submission: fixed, so that measurements do not depend on
    the machine's cores or the number of workers."""
    limits: dict = field(default_factory=dict)
    """Resource limits of each submission (:data:`LIMIT_FIELDS`: ``memory_mb``, ``processes``,
    ``cpu_seconds``); those not given keep the grader's defaults."""

    @classmethod
    def from_dict(cls, name: str, d: dict, where: str) -> "Profile":
        if not isinstance(d, dict):
            raise SpecError(f"{where}: expected a mapping")
        _no_unknown(d, {"time_limit", "request_timeout", "data", "recipes", "params", "threads",
                        *LIMIT_FIELDS}, where)
        limits = {}
        for key, least in LIMIT_FIELDS.items():
            value = _field(d, key, int, where, None)
            if value is not None:
                if value < least:
                    raise SpecError(f"{where}: field '{key}' should be at least {least}, got {value}")
                limits[key] = value
        threads = _field(d, "threads", int, where, 1)
        if not 1 <= threads <= 256:
            raise SpecError(f"{where}: field 'threads' should be between 1 and 256, got {threads}")
        for key in ("time_limit", "request_timeout"):
            if key in d and not _field(d, key, float, where) > 0:
                raise SpecError(f"{where}: field '{key}' should be positive, got {d[key]!r}")
        data = _field(d, "data", dict, where, {})
        for key, options in data.items():
            if not isinstance(options, dict):
                raise SpecError(f"{where}.data.{key}: expected a mapping of load options")
            if "student" in options:
                raise SpecError(f"{where}.data.{key}: 'student' is not a profile option",
                                hint="the student side always loads train and validation only; "
                                     "the grader alone loads the test split")
        recipes = _field(d, "recipes", dict, where, {})
        for key, recipe in recipes.items():
            if not isinstance(recipe, dict):
                raise SpecError(f"{where}.recipes.{key}: expected a mapping")
        return cls(name, _field(d, "time_limit", float, where, 300.0),
                   _field(d, "request_timeout", float, where, 60.0), data, recipes,
                   _field(d, "params", dict, where, {}), threads, limits)


@dataclass(frozen=True)
class Threshold:
    """A pass mark and where it came from."""

    value: float
    """The number a measurement is compared with."""
    how: str = ""
    """How it was set, e.g. "mean - 3 std - 0.01 over 5 reference runs"."""
    mean: float | None = None
    std: float | None = None
    n: int | None = None
    """Reference runs the mean and std come from."""

    @classmethod
    def from_dict(cls, d, where: str) -> "Threshold":
        if isinstance(d, (int, float)) and not isinstance(d, bool):
            return cls(float(d))
        if not isinstance(d, dict):
            raise SpecError(f"{where}: expected a number or a mapping with 'value'")
        _no_unknown(d, {"value", "how", "mean", "std", "n", "margin", "direction", "command"}, where)
        return cls(_field(d, "value", float, where), str(d.get("how", "")),
                   d.get("mean"), d.get("std"), d.get("n"))


@dataclass(frozen=True)
class Exercise:
    """One exercise of the course and the paths of its parts."""

    id: str
    title: str
    notebook: str
    """File name of the notebook in assignments/<id>/ and solutions/<id>/."""
    profiles: dict
    """Profile name -> :class:`Profile`."""
    root: Path
    """The course folder."""
    review: dict = field(default_factory=dict)
    """Question id -> "always" (an instructor reads every non-empty answer) or "auto" (only answers the
    rubric is unsure about; the default)."""
    late: dict = field(default_factory=dict)
    """The late policy as written (due, grace, penalty...; validated by :mod:`dlgrade.grade.late_policy`)."""

    @property
    def spec_dir(self) -> Path:
        return self.root / "autograder" / self.id

    @property
    def template_path(self) -> Path:
        return self.root / "assignments" / self.id / self.notebook

    @property
    def solution_path(self) -> Path:
        return self.root / "solutions" / self.id / self.notebook

    @property
    def tests_path(self) -> Path:
        return self.spec_dir / "tests.py"

    @property
    def rubrics_path(self) -> Path:
        return self.spec_dir / "rubrics.yaml"

    @property
    def samples_dir(self) -> Path:
        return self.spec_dir / "samples"

    def thresholds_path(self, profile: str) -> Path:
        return self.spec_dir / "thresholds" / f"{profile}.yaml"

    def profile(self, name: str) -> Profile:
        if name not in self.profiles:
            raise SpecError(f"{self.spec_dir / 'exercise.yaml'}: no profile '{name}' "
                            f"(has: {', '.join(self.profiles)})")
        return self.profiles[name]

    def thresholds(self, profile: str) -> dict:
        path = self.thresholds_path(profile)
        if not path.exists():
            return {}
        return {k: Threshold.from_dict(v, f"{path}: {k}") for k, v in read_yaml(path).items()}

    @classmethod
    def load(cls, root: Path, ex_id: str) -> "Exercise":
        path = Path(root) / "autograder" / ex_id / "exercise.yaml"
        if not path.exists():
            raise SpecError(f"{path}: no such exercise '{ex_id}'")
        d = read_yaml(path)
        where = str(path)
        _no_unknown(d, {"title", "notebook", "profiles", "review", "late"}, where)
        profiles = _field(d, "profiles", dict, where)
        for name in profiles:
            if name not in PROFILES:
                raise SpecError(f"{where}: unknown profile '{name}' (use {' or '.join(PROFILES)})")
        review = _field(d, "review", dict, where, {})
        for qid, how in review.items():
            if how not in ("always", "auto"):
                raise SpecError(f"{where}: review.{qid} should be 'always' or 'auto', got {how!r}")
        return cls(ex_id, _field(d, "title", str, where), _field(d, "notebook", str, where),
                   {n: Profile.from_dict(n, p, f"{where}: profiles.{n}") for n, p in profiles.items()},
                   Path(root), {str(k): v for k, v in review.items()}, _field(d, "late", dict, where, {}))


@dataclass(frozen=True)
class Course:
    """A course folder."""

    root: Path

    def exercise_ids(self) -> list[str]:
        base = self.root / "autograder"
        return sorted(p.parent.name for p in base.glob("*/exercise.yaml"))

    def exercise(self, ex_id: str) -> Exercise:
        ids = self.exercise_ids()
        if ex_id not in ids:
            raise SpecError(f"unknown exercise '{ex_id}' in {self.root / 'autograder'}",
                            hint=f"known exercises: {', '.join(ids) or 'none'}")
        return Exercise.load(self.root, ex_id)


def find_course(root: str | Path | None = None) -> Course:
    """The course folder: ``root``, else $DLGRADE_COURSE, else the nearest folder upward
    from the current directory with an ``autograder/``, else the one bundled beside the package."""
    if root is None:
        root = os.environ.get("DLGRADE_COURSE") or None
    if root is not None:
        path = Path(root).expanduser().resolve()
        if not (path / "autograder").is_dir():
            raise SpecError(f"{path}: not a course folder (no autograder/ inside)")
        return Course(path)
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "autograder").is_dir() and (folder / "assignments").is_dir():
            return Course(folder)
    checkout = Path(__file__).resolve().parents[3]
    if (checkout / "autograder").is_dir():
        return Course(checkout)
    raise SpecError("no course folder found (a folder with autograder/ and assignments/)",
                    hint="run from the course folder or pass --course DIR / set DLGRADE_COURSE")
