"""Grade notebooks through each platform's real tools and collect per-question points.

For instructors who want to see, on their own machine, that a platform gives
the points ``dlgrade grade`` gives (the tests and ``benchmarks/bench_platforms.py``
use it too). Each ``*_points`` function takes ``{student id: notebook}``, where a
notebook of ``None`` means the platform's own untouched student notebook, and
returns a :class:`Route` with ``{student id: {question id: points}}``:

* :func:`dlgrade_points`: ``dlgrade grade`` on the notebooks;
* :func:`nbgrader_points`: ``dlgrade export nbgrader``, ``nbgrader generate_assignment``,
  the answers put into the released notebook, ``nbgrader autograde``; the points
  of the autograded cells from nbgrader's gradebook (manually graded cells: ``None``);
* :func:`otter_points`: ``dlgrade export otter``, ``otter assign``, the answers put into
  otter's student notebook, ``otter run`` (no container);
* :func:`gradescope_points`: ``dlgrade export gradescope`` and the zip's ``run_autograder``
  on a fake ``/autograder`` root per submission.

The platforms' commands come from the environment of this Python (``pip install
dlgrade[interop]``).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from dlgrade.errors import DlgradeError
from dlgrade.export.gradescope_runner import copy_as_submitted
from dlgrade.export.transplant import transplant_file


@dataclass
class Route:
    """What one platform gave a set of notebooks."""

    name: str
    points: dict = field(default_factory=dict)
    """Student id -> question id -> points (None: graded by hand on this platform)."""
    seconds: float = 0.0
    """Wall time of the grading commands (not of the export and set-up)."""
    documents: dict = field(default_factory=dict)
    """Student id -> the platform's own result document, where it writes one (otter, Gradescope)."""


def tool(name: str) -> str:
    """The console script ``name`` installed beside this Python, else on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise DlgradeError(f"`{name}` is not installed", hint="pip install 'dlgrade[interop]'")
    return found


def _env(**extra) -> dict:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"   # nbgrader runs `alembic`
    env.update(extra)
    return env


def _run(cmd: list[str], *, cwd: Path, env: dict | None = None, timeout: float = 1800) -> None:
    done = subprocess.run(cmd, cwd=cwd, env=env or _env(), capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        tail = (done.stderr.strip() or done.stdout.strip()).splitlines()[-15:]
        raise DlgradeError(f"`{' '.join(Path(c).name if i == 0 else c for i, c in enumerate(cmd))}` failed "
                           f"(exit {done.returncode}) in {cwd}:\n" + "\n".join(tail))


def dlgrade_points(exercise: str, notebooks: dict, *, work: Path, course=None, profile: str = "quick") -> Route:
    """``dlgrade grade`` (sandboxed where bubblewrap works, else unsandboxed) on the notebooks."""
    from dlgrade.grade import main as grade_main
    from dlgrade.harness.course import find_course

    ex = find_course(course).exercise(exercise)
    inbox = Path(work) / "dlgrade-in"
    inbox.mkdir(parents=True, exist_ok=True)
    for sid, nb in notebooks.items():   # the file name is the student id, as on the platforms
        copy_as_submitted(nb if nb is not None else ex.template_path, inbox / f"{sid}.ipynb")
    out = Path(work) / "dlgrade-out"
    options = dict(exercise=exercise, profile=profile, out=out, course=course, progress=False, regrade=True)
    start = time.perf_counter()
    try:
        grade_main([inbox], sandbox="auto", **options)
    except DlgradeError as exc:
        if type(exc).__name__ != "SandboxError":
            raise
        grade_main([inbox], sandbox="none", **options)
    route = Route("dlgrade", seconds=time.perf_counter() - start)
    for path in sorted((out / exercise / "results").glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        sid = Path(record["file"]).stem
        route.points[sid] = {q["id"]: q["earned"] for q in record["questions"]}
        route.documents[sid] = record
    return route


def nbgrader_points(exercise: str, notebooks: dict, *, work: Path, course=None, profile: str = "quick") -> Route:
    """Export, ``nbgrader generate_assignment``, submit, ``nbgrader autograde``; points from the gradebook."""
    from dlgrade.export import main as export_main

    root = Path(work) / "nbgrader"
    export_main(exercise, format="nbgrader", out=root, course=course, profile=profile)
    _run([tool("nbgrader"), "generate_assignment", exercise, "--force"], cwd=root)
    release = root / "release" / exercise / f"{exercise}.ipynb"
    for sid, nb in notebooks.items():
        target = root / "submitted" / sid / exercise / f"{exercise}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        if nb is None:
            shutil.copyfile(release, target)
        else:
            transplant_file(release, Path(nb), target)
    start = time.perf_counter()
    _run([tool("nbgrader"), "autograde", exercise, "--force"], cwd=root)
    route = Route("nbgrader", seconds=time.perf_counter() - start)
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for sid in notebooks:
            graded = gb.find_submission_notebook(exercise, exercise, sid)
            route.points[sid] = {g.name: (None if g.needs_manual_grade or g.auto_score is None and
                                          g.manual_score is None else g.score) for g in graded.grades}
    for sid in notebooks:
        route.documents[sid] = _test_cell_headlines(root / "autograded" / sid / exercise / f"{exercise}.ipynb")
    return route


def _test_cell_headlines(path: Path) -> dict:
    """grade id -> first line the autograded test cell printed (dlgrade's ``q1 (3/4): title``)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    out = {}
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell["cell_type"] != "code" or not meta.get("grade") or meta.get("solution"):
            continue
        text = "".join("".join(o.get("text", "")) for o in cell.get("outputs", []) if o.get("name") == "stdout")
        if text:
            out[meta["grade_id"]] = text.splitlines()[0]
    return out


def otter_points(exercise: str, notebooks: dict, *, work: Path, course=None, profile: str = "quick") -> Route:
    """Export, ``otter assign``, then ``otter run`` on each notebook (answers put into otter's student notebook)."""
    from dlgrade.export import main as export_main

    src, dist = Path(work) / "otter" / "src", Path(work) / "otter" / "dist"
    export_main(exercise, format="otter", out=src, course=course, profile=profile)
    _run([tool("otter"), "assign", f"{exercise}.ipynb", str(dist)], cwd=src)
    autograder = next((dist / "autograder").glob("*.zip"))
    student = dist / "student" / f"{exercise}.ipynb"
    route = Route("otter")
    for sid, nb in notebooks.items():
        folder = Path(work) / "otter" / "runs" / sid
        folder.mkdir(parents=True, exist_ok=True)
        submission = folder / f"{exercise}.ipynb"
        if nb is None:
            shutil.copyfile(student, submission)
        else:
            transplant_file(student, Path(nb), submission)
        start = time.perf_counter()
        _run([tool("otter"), "run", "-a", str(autograder), "-o", str(folder), "--no-logo", str(submission)],
             cwd=folder, env=_env(DLGRADE_STUDENT_ID=sid))
        route.seconds += time.perf_counter() - start
        document = json.loads((folder / "results.json").read_text(encoding="utf-8"))
        route.documents[sid] = document
        route.points[sid] = {t["name"]: t["score"] for t in document["tests"] if "score" in t}
    return route


def gradescope_points(exercise: str, notebooks: dict, *, work: Path, course=None, profile: str = "quick") -> Route:
    """Export the zip, then its ``run_autograder`` on a fake ``/autograder`` root per notebook."""
    from dlgrade.export import main as export_main
    from dlgrade.harness.course import find_course

    ex = find_course(course).exercise(exercise)
    archive = Path(work) / "gradescope" / f"{exercise}.zip"
    export_main(exercise, format="gradescope", out=archive, course=course, profile=profile)
    route = Route("gradescope")
    for sid, nb in notebooks.items():
        root = Path(work) / "gradescope" / sid
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(root / "source")
        (root / "submission").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(nb if nb is not None else ex.template_path, root / "submission" / ex.notebook)
        (root / "submission_metadata.json").write_text(json.dumps(
            {"users": [{"email": f"{sid}@example.org", "name": sid, "sid": sid}]}), encoding="utf-8")
        start = time.perf_counter()
        _run(["bash", str(root / "source" / "run_autograder")], cwd=root,
             env=_env(DLGRADE_AUTOGRADER_ROOT=str(root), DLGRADE_PYTHON=sys.executable))
        route.seconds += time.perf_counter() - start
        document = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
        route.documents[sid] = document
        route.points[sid] = {t["number"]: t["score"] for t in document["tests"]}
    return route


ROUTES = {"dlgrade": dlgrade_points, "nbgrader": nbgrader_points, "otter": otter_points,
          "gradescope": gradescope_points}
