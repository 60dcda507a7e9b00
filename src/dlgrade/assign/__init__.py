"""Build the student notebooks from the reference solutions.

The solution notebook is the source of truth. ``main(["xor"])`` writes
``assignments/xor/xor.ipynb`` from ``solutions/xor/xor.ipynb``:

* cells with role ``solution_only`` are removed;
* in code cells, each region between ``### BEGIN SOLUTION`` and
  ``### END SOLUTION`` becomes ``# YOUR CODE HERE`` and
  ``raise NotImplementedError("<hint>")`` stub at the region's indentation, where the
  hint comes from ``### HINT: ...`` lines inside the region (they are kept as
  comments too);
* in Markdown cells, a region between ``<!-- BEGIN SOLUTION -->`` and
  ``<!-- END SOLUTION -->`` becomes ``*Write your answer here.*``;
* outputs and execution counts are cleared, cell ids are kept, cell metadata
  is reduced to the ``dlgrade`` role record.
"""
from __future__ import annotations

from pathlib import Path

import nbformat

from dlgrade.assign.make_stubs import stub_code, stub_markdown
from dlgrade.errors import DlgradeError
from dlgrade.harness.course import find_course
from dlgrade.harness.notebook import read_notebook, role

__all__ = ["main", "build_student_notebook"]


def build_student_notebook(solution: nbformat.NotebookNode, *, exercise: str, source: str = "") -> str:
    """The student notebook (as the exact text written to disk) built from ``solution``."""
    cells = []
    for index, cell in enumerate(solution.cells):
        if role(cell) == "solution_only":
            continue
        where = f"{source}: cell {index + 1} (id {cell.get('id')})"
        meta = {"dlgrade": cell.metadata["dlgrade"]} if "dlgrade" in cell.get("metadata", {}) else {}
        if cell.cell_type == "code":
            new = nbformat.v4.new_code_cell(stub_code(cell.source, where), metadata=meta)
        elif cell.cell_type == "markdown":
            new = nbformat.v4.new_markdown_cell(stub_markdown(cell.source, where), metadata=meta)
        else:
            new = nbformat.v4.new_raw_cell(cell.source, metadata=meta)
        new["id"] = cell.get("id") or f"cell-{index}"
        cells.append(new)
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = {k: solution.metadata[k] for k in ("kernelspec", "language_info") if k in solution.metadata}
    nb.metadata["dlgrade"] = {"exercise": exercise}
    nb.nbformat, nb.nbformat_minor = 4, 5
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"


def main(exercises: list[str] | None = None, *, course: str | Path | None = None,
         check: bool = False) -> list[Path]:
    """Write (or with ``check=True``, verify) the student notebook of each exercise.

    Returns the paths written (or found stale, with ``check``). With ``check``
    a stale notebook raises :class:`DlgradeError` naming it.
    """
    found = find_course(course)
    ids = exercises or found.exercise_ids()
    changed = []
    for ex_id in ids:
        exercise = found.exercise(ex_id)
        solution_path = exercise.solution_path
        if not solution_path.exists():
            raise DlgradeError(f"{solution_path}: reference solution not found")
        text = build_student_notebook(read_notebook(solution_path), exercise=ex_id, source=str(solution_path))
        target = exercise.template_path
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current == text:
            continue
        changed.append(target)
        if not check:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(".ipynb.tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(target)
    if check and changed:
        raise DlgradeError(f"student notebook out of date: {', '.join(map(str, changed))}",
                           hint="run: dlgrade assign")
    return changed
