"""Step 2: make the notebook fit to run: protected cells restored, shell commands removed.

* Locked cells (``setup``, ``check``) and every cell's role come from the
  exercise's template (:func:`dlgrade.harness.notebook.restore_locked`): a
  student cannot change the setup, or un-skip or re-role a cell.
* Shell escapes and magics (``!pip install ...``, ``%timeit``) become ``pass``:
  nothing is installed or run outside Python while grading.
* Outputs are dropped: only the sources go to the sandbox.
* A notebook whose metadata names another exercise is graded anyway, with a note.

Each change is noted in the job's messages, which the student reads.
"""
from __future__ import annotations

from dlgrade.grade.job import Grading, Job
from dlgrade.harness.notebook import restore_locked, strip_magics


def sanitize_notebook(job: Job, grading: Grading, worker) -> None:
    nb = job.nb
    if nb is None:
        return
    old = nb.metadata.pop("dlgrade_converted_from", None)
    if old is not None:
        job.messages.append(f"the notebook was in the old format nbformat {old}; it was converted to nbformat 4")
    meta = nb.metadata.get("dlgrade")
    claimed = meta.get("exercise") if isinstance(meta, dict) else None
    if isinstance(claimed, str) and claimed != grading.exercise.id:
        job.messages.append(f"this notebook says it is for exercise '{claimed[:80]}', "
                            f"but it was graded as '{grading.exercise.id}'")
    job.messages += restore_locked(nb, grading.template)
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
