"""Put a dlgrade notebook's answers into a platform's student notebook.

A student who worked in the dlgrade notebook (or a sample submission in
``autograder/<ex>/samples/``) can hand in on nbgrader or otter: the answer and
written-answer cells are copied, matched by cell id, into the notebook the
platform released; everything else stays as the platform wrote it.
"""
from __future__ import annotations

from pathlib import Path

import nbformat

from dlgrade.harness.notebook import read_notebook, role

ANSWER_ROLES = ("answer", "short_answer")


def transplant_answers(target: nbformat.NotebookNode, source: nbformat.NotebookNode) -> int:
    """Copy the source of ``source``'s answer cells into the cells of ``target`` with the same id
    (or the same ``metadata.dlgrade.cell`` record); returns how many cells were copied."""
    answers = {str(c.get("id")): c.source for c in source.cells if role(c) in ANSWER_ROLES}
    copied = 0
    for cell in target.cells:
        key = str(cell.get("metadata", {}).get("dlgrade", {}).get("cell") or cell.get("id"))
        if key in answers:
            cell.source = answers[key]
            copied += 1
    return copied


def transplant_file(target: Path, source: Path, out: Path) -> int:
    """:func:`transplant_answers` from file ``source`` into file ``target``, written to ``out``."""
    nb = read_notebook(target)
    copied = transplant_answers(nb, read_notebook(source))
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
    return copied
