"""Step 2: make the notebook fit to run: protected cells restored, shell commands removed.

* Locked cells (``setup``, ``check``) and every cell's role come from the
  exercise's template (:func:`dlgrade.harness.notebook.restore_locked`): a
  student cannot change the setup, or un-skip or re-role a cell.
* Shell escapes and magics (``!pip install ...``, ``%timeit``) become ``pass``:
  nothing is installed or run outside Python while grading.
* Outputs are dropped: only the sources go to the sandbox.
* A notebook for another exercise (its setup cell's ``DLGRADE_EXERCISE`` or
  its metadata names another exercise, and its cells do not match this
  exercise's template) is not run at all: every question gets 0 with a message
  saying which exercise it is for. When only the name differs and the cells
  match, it is graded, with a note.

Each change is noted in the job's messages, which the student reads.
"""
from __future__ import annotations

import re

from dlgrade.grade.job import Grading, Job
from dlgrade.harness.match_cells import match_cells
from dlgrade.harness.notebook import restore_locked, strip_magics

RECOGNISED = 0.5
"""Share of the template's cells with a role that a notebook naming another exercise must match to be graded."""
_DECLARED = re.compile(r"""^[ \t]*DLGRADE_EXERCISE[ \t]*=[ \t]*["']([^"'\n]{1,80})["']""", re.M)


def declared_exercises(nb) -> list[str]:
    """Exercise ids the notebook names: its metadata's ``dlgrade.exercise``, then ``DLGRADE_EXERCISE = ...``."""
    meta = nb.metadata.get("dlgrade")
    names = [meta.get("exercise")] if isinstance(meta, dict) and isinstance(meta.get("exercise"), str) else []
    for cell in nb.cells:
        if cell.cell_type == "code":
            names += _DECLARED.findall(cell.source)
    return list(dict.fromkeys(n.strip() for n in names if n.strip()))


def sanitize_notebook(job: Job, grading: Grading, worker) -> None:
    nb = job.nb
    if nb is None:
        return
    old = nb.metadata.pop("dlgrade_converted_from", None)
    if old is not None:
        job.messages.append(f"the notebook was in the old format nbformat {old}; it was converted to nbformat 4")
    ex = grading.exercise.id
    match = match_cells(nb, grading.template)
    others = [name for name in declared_exercises(nb) if name != ex]
    if others and match.coverage < RECOGNISED:
        job.problem = {"kind": "wrong_exercise", "message": (
            f"this notebook is for exercise '{others[0]}', not '{ex}': it says so and its cells do not match "
            f"the notebook of '{ex}'; it was not run (submit your notebook of '{ex}')")}
        job.nb = None
        return
    if others:
        job.messages.append(f"this notebook says it is for exercise '{others[0]}', but it was graded as '{ex}'")
    job.messages += restore_locked(nb, grading.template, match)
    for number, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "code":
            continue
        code, removed = strip_magics(cell.source)
        if removed:
            first = next(line.strip() for line in cell.source.splitlines() if line.strip()[:1] in "!%")
            job.messages.append(f"cell {number}: removed {removed} shell command(s)/magic(s) such as "
                                f"`{first[:60]}` (nothing is installed or run outside Python while grading)")
            cell.source = code
        cell.outputs = []
        cell.execution_count = None
