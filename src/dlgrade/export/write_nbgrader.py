"""``dlgrade export nbgrader``: an nbgrader course folder for one exercise.

Writes ``<course>/source/<ex>/<ex>.ipynb`` with nbgrader's cell metadata:

* the setup and self-check cells are locked (nbgrader restores them before grading);
* self-check and training cells are tagged ``skip-execution``: autograde does not run them,
  as ``dlgrade grade`` does not;
* answer cells are solution cells: ``### BEGIN SOLUTION`` / ``### END SOLUTION`` regions
  become ``raise NotImplementedError()`` in the release (hints stay as comments above);
* written answers are manually graded solution cells worth the question's points;
* at the end, one locked, autograded test cell per question, worth its points, whose
  body is hidden (between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS``):
  it runs the question's dlgrade hidden test against the kernel's namespace, prints the
  same feedback as ``dlgrade grade`` and returns the points earned, which nbgrader
  takes as partial credit;

plus ``<course>/autograder/<ex>/`` (the hidden tests, thresholds and rubrics, outside
``source/`` so that ``generate_assignment`` never releases them) and
``<course>/nbgrader_config.py`` (course id and the per-cell timeout).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import nbformat

from dlgrade.atomic import write_atomic
from dlgrade.export.feedback import points_text
from dlgrade.export.parts import ExerciseParts, copy_spec, fresh_cell, hints_outside
from dlgrade.harness.notebook import role

SCHEMA_VERSION = 3
SKIP_TAG = "skip-execution"
"""nbclient (which nbgrader's autograde executes with) skips cells with this tag: self-checks and
training cells, which ``dlgrade grade`` skips too."""
MIN_CELL_TIMEOUT = 120


def nbgrader_meta(grade_id: str, *, grade: bool = False, solution: bool = False, locked: bool = False,
                  points: float | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": SCHEMA_VERSION,
            "solution": solution, "task": False}
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def cell_timeout(parts: ExerciseParts, profile: str) -> int:
    """Seconds for nbgrader's per-cell timeout: the profile's whole notebook budget, at least two minutes.

    The slowest cells are the hidden tests of questions whose models the grader trains; each
    must finish within this limit, as the whole notebook must within ``time_limit`` in dlgrade."""
    return max(MIN_CELL_TIMEOUT, int(math.ceil(parts.exercise.profile(profile).time_limit)))


def test_cell_source(ex_id: str, q, profile: str) -> str:
    call = f'grade_question("{ex_id}", "{q.id}", globals()' + (f', profile="{profile}")' if profile != "quick"
                                                               else ")")
    return "\n".join([
        f"# Hidden tests of {q.id} ({points_text(q.points)} points): {q.title}.",
        "# They run when your notebook is graded.",
        "### BEGIN HIDDEN TESTS",
        "from dlgrade.export.runtime import grade_question",
        call,
        "### END HIDDEN TESTS",
    ])


def build_notebook(parts: ExerciseParts, *, profile: str = "quick") -> nbformat.NotebookNode:
    """The nbgrader source notebook of the exercise."""
    manual = {q.id: q for q in parts.questions if q.manual}
    cells = []
    for cell in parts.solution.cells:
        kind = role(cell)
        cid = str(cell.get("id"))
        if kind == "solution_only":
            continue
        if kind == "setup":
            cells.append(fresh_cell(cell, metadata=nbgrader_meta(cid, locked=True)))
        elif kind == "check":
            cells.append(fresh_cell(cell, metadata={**nbgrader_meta(cid, locked=True), "tags": [SKIP_TAG]}))
        elif kind == "train":
            cells.append(fresh_cell(cell, metadata={"tags": [SKIP_TAG]}))
        elif kind == "answer" and cell.cell_type == "code":
            cells.append(fresh_cell(cell, hints_outside(cell.source, marker="###"),
                                    metadata=nbgrader_meta(cid, solution=True)))
        elif kind == "short_answer" and parts.question_of(cell) in manual:
            q = manual[parts.question_of(cell)]
            cells.append(fresh_cell(cell, metadata=nbgrader_meta(q.id, grade=True, solution=True, points=q.points)))
        else:
            cells.append(fresh_cell(cell))
    heading = nbformat.v4.new_markdown_cell(
        "## Grading\n\nThe cells below run the hidden tests when your notebook is graded. "
        "Leave them as they are.", metadata=nbgrader_meta("grading-heading", locked=True))
    heading["id"] = "grading-heading"
    cells.append(heading)
    for q in parts.questions:
        if q.manual:
            continue
        test = nbformat.v4.new_code_cell(test_cell_source(parts.id, q, profile),
                                         metadata=nbgrader_meta(q.id, grade=True, locked=True, points=q.points))
        test["id"] = f"{parts.id}-{q.id}-tests"
        cells.append(test)
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = {k: parts.solution.metadata[k] for k in ("kernelspec", "language_info")
                   if k in parts.solution.metadata}
    nb.metadata.setdefault("kernelspec", {"display_name": "Python 3", "language": "python", "name": "python3"})
    nb.metadata["dlgrade"] = {"exercise": parts.id}
    nb.nbformat, nb.nbformat_minor = 4, 5
    nbformat.validate(nb)
    return nb


CONFIG = '''\
# nbgrader configuration written by `dlgrade export nbgrader`; edit freely.
c = get_config()  # noqa: F821 - provided by nbgrader when it reads this file

c.CourseDirectory.course_id = {course_id}

# Per-cell limit while autograding. The hidden-test cells of questions whose models the
# grader trains are the slowest cells; raise this for the "full" profile or slow machines.
c.Execute.timeout = {timeout}

# What the release puts where a solution was.
c.ClearSolutions.code_stub = {{"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}}
c.ClearSolutions.text_stub = "*Write your answer here.*"
'''


def write_course(parts: ExerciseParts, course: Path, *, profile: str = "quick") -> list[Path]:
    """Write the source notebook, the autograder folder and (when absent) ``nbgrader_config.py``."""
    course = Path(course)
    notebook = course / "source" / parts.id / f"{parts.id}.ipynb"
    notebook.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(notebook, (nbformat.writes(build_notebook(parts, profile=profile)) + "\n").encode())
    written = [notebook, copy_spec(parts.exercise, course)]
    config = course / "nbgrader_config.py"
    if not config.exists():
        write_atomic(config, CONFIG.format(course_id=json.dumps(course.resolve().name),
                                           timeout=cell_timeout(parts, profile)).encode())
        written.append(config)
    return written
