"""``dlgrade export otter``: an otter-assign master notebook for one exercise.

Writes ``<out>/<ex>.ipynb`` in otter-assign's format (v1: raw-cell delimiters):

* an ``# ASSIGNMENT CONFIG`` cell: exception-based tests, no test run at assign time,
  ``autograder/`` (the hidden tests, thresholds and rubrics) shipped in the autograder
  zip only, ``requirements.txt`` for the grading image;
* per code question: its prompt, its solution cells (``# BEGIN SOLUTION`` regions),
  a public test case worth 0 points (the exercise's self-check, what ``grader.check``
  runs) and hidden test cases that together are worth the question's points: case *k*
  passes when dlgrade's hidden test gives the question at least *k* points, so otter's
  sum of passed cases is dlgrade's partial credit (rounded down to whole points when a
  question gives fractions);
* per written answer: a manually graded question;
* the heavy training cells tagged ``otter_ignore``: otter skips them when grading,
  as dlgrade does.

``otter assign <ex>.ipynb dist`` then writes the student notebook and the autograder zip.
"""
from __future__ import annotations

import math
from pathlib import Path

import nbformat

from dlgrade import __version__
from dlgrade.atomic import write_atomic
from dlgrade.check import public_check_file
from dlgrade.export.feedback import points_text
from dlgrade.export.parts import ExerciseParts, copy_spec, fresh_cell, hints_outside
from dlgrade.harness.notebook import role
from dlgrade.harness.questions import load_questions

IGNORE_TAG = "otter_ignore"

CONFIG = """\
# ASSIGNMENT CONFIG
init_cell: true
check_all_cell: false
export_cell: false
run_tests: false
requirements: requirements.txt
autograder_files:
  - autograder
tests:
  files: false
  ok_format: false
generate:
  show_stdout: true
"""


def _raw(source: str):
    return nbformat.v4.new_raw_cell(source)


def public_ids(exercise: str) -> set[str]:
    path = public_check_file(exercise)
    return {q.id for q in load_questions(path)} if path.exists() else set()


def case_points(points: float) -> list[float]:
    """One hidden case per whole point; the last one takes a fractional remainder."""
    n = max(1, math.ceil(points - 1e-9))
    return [1.0] * (n - 1) + [round(points - (n - 1), 6)]


def _test_cell(config: dict, name: str, body: str):
    head = ['""" # BEGIN TEST CONFIG', *(f"{k}: {v}" for k, v in config.items()), '""" # END TEST CONFIG']
    return nbformat.v4.new_code_cell("\n".join([*head, f"def {name}(env):", *(f"    {b}" for b in body.splitlines())]))


def test_cells(ex_id: str, q, profile: str, public: bool) -> list:
    cells = []
    if public:
        body = f'from dlgrade.export.runtime import otter_public\notter_public("{ex_id}", "{q.id}", env)'
        cells.append(_test_cell({"points": 0, "hidden": "false"}, f"test_{q.id}_selfcheck", body))
    reached = 0.0
    for k, pts in enumerate(case_points(q.points), start=1):
        reached = round(reached + pts, 6)
        extra = f', profile="{profile}"' if profile != "quick" else ""
        cells.append(_test_cell({"points": points_text(pts), "hidden": "true"}, f"test_{q.id}_{k}",
                                "from dlgrade.export.runtime import otter_case\n"
                                f'otter_case("{ex_id}", "{q.id}", env, at_least={points_text(reached)}{extra})'))
    return cells


def build_master(parts: ExerciseParts, *, profile: str = "quick") -> nbformat.NotebookNode:
    """The otter-assign master notebook of the exercise."""
    info = {q.id: q for q in parts.questions}
    public = public_ids(parts.id)
    cells = [_raw(CONFIG)]
    groups: list[tuple[str | None, list]] = []
    for cell in parts.solution.cells:
        if role(cell) in ("solution_only", "check"):
            continue
        qid = parts.question_of(cell)
        qid = qid if qid in info else None
        if groups and groups[-1][0] == qid:
            groups[-1][1].append(cell)
        else:
            groups.append((qid, [cell]))
    for qid, group in groups:
        if qid is None:
            cells.extend(_plain(c) for c in group)
            continue
        q = info[qid]
        prompt = [c for c in group if c.cell_type == "markdown" and role(c) is None]
        solution = [c for c in group if role(c) in ("answer", "short_answer")]
        after = [c for c in group if c not in prompt and c not in solution]
        head = f"# BEGIN QUESTION\nname: {q.id}\npoints: {points_text(q.points)}"
        cells.append(_raw(head + ("\nmanual: true" if q.manual else "")))
        cells.extend(fresh_cell(c) for c in prompt)
        if solution:
            cells.append(_raw("# BEGIN SOLUTION"))
            for c in solution:
                if c.cell_type == "code":
                    cells.append(fresh_cell(c, hints_outside(c.source, marker="#", otter_prompt=True)))
                else:
                    cells.append(fresh_cell(c, _strip_md_markers(c.source)))
            cells.append(_raw("# END SOLUTION"))
        if not q.manual:
            cells.append(_raw("# BEGIN TESTS"))
            cells.extend(test_cells(parts.id, q, profile, q.id in public))
            cells.append(_raw("# END TESTS"))
        cells.append(_raw("# END QUESTION"))
        cells.extend(_plain(c) for c in after)
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = {k: parts.solution.metadata[k] for k in ("kernelspec", "language_info")
                   if k in parts.solution.metadata}
    nb.metadata.setdefault("kernelspec", {"display_name": "Python 3", "language": "python", "name": "python3"})
    nb.nbformat, nb.nbformat_minor = 4, 5
    nbformat.validate(nb)
    return nb


def _plain(cell):
    """A cell outside the question blocks; training cells are tagged for otter to skip when grading."""
    new = fresh_cell(cell)
    if role(cell) == "train":
        new.metadata["tags"] = [IGNORE_TAG]
    return new


def _strip_md_markers(source: str) -> str:
    from dlgrade.assign.make_stubs import MD_BEGIN, MD_END

    return "\n".join(line for line in source.splitlines() if line.strip() not in (MD_BEGIN, MD_END)).strip()


def write_master(parts: ExerciseParts, out: Path, *, profile: str = "quick", package: str | None = None) -> list[Path]:
    """Write ``out/<ex>.ipynb``, ``out/autograder/<ex>/`` and ``out/requirements.txt``."""
    out = Path(out)
    master = out / f"{parts.id}.ipynb"
    write_atomic(master, (nbformat.writes(build_master(parts, profile=profile)) + "\n").encode())
    requirements = out / "requirements.txt"
    write_atomic(requirements, f"{package or f'dlgrade=={__version__}'}\n".encode())
    return [master, copy_spec(parts.exercise, out), requirements]
