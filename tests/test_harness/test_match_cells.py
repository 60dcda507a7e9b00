"""Matching a student's cells to the template's when ids are missing (dlgrade.harness.match_cells)."""
import copy
from pathlib import Path

import pytest

from dlgrade.harness.match_cells import is_check_call, match_cells
from dlgrade.harness.notebook import code_cells, read_notebook, restore_locked, short_answers
from tests.conftest import make_notebook

TEMPLATE = make_notebook(("import numpy as np\nDLGRADE_EXERCISE = 'x'", "setup"),
                         ("def add(a, b):\n    raise NotImplementedError('add them')", "answer"),
                         ("check('q1')", "check"),
                         ("# train for a while\nfor epoch in range(10):\n    fit(model, data)", "train"),
                         ("md", "**q2.** Why? Answer below."),
                         ("md", "*Write your answer here.*", "short_answer", "q2"))


def student(*edits, drop_ids=True):
    """The template with (index, new source) edits, its cells' ids and metadata removed."""
    nb = copy.deepcopy(TEMPLATE)
    for i, source in edits:
        nb.cells[i].source = source
    if drop_ids:
        for cell in nb.cells:
            cell.pop("id", None)
            cell.metadata = {}
    return nb


def roles(nb):
    return [c.role for c in code_cells(nb)]


def test_cells_without_ids_get_their_template_roles():
    """Do stripped cells (answered, training edited) get the template's roles, with the short answer found?"""
    nb = student((1, "def add(a, b):\n    return a + b"), (3, "# train longer\nfor epoch in range(99):\n"
                                                              "    fit(model, data)"), (5, "Because."))
    messages = restore_locked(nb, TEMPLATE)
    assert roles(nb) == ["setup", "answer", "check", "train"]
    assert short_answers(nb) == {"q2": "Because."}
    assert [c.id for c in nb.cells] == [c.id for c in TEMPLATE.cells]
    assert messages == ["the notebook's cells have no ids (an older notebook format, or stripped by an editor): "
                        "they were matched to the exercise's cells by content and position"]


def test_a_re_created_answer_cell_with_a_new_id_is_found():
    """When the student replaced the answer cell by a new one (a new id, e.g. pasted), is it still their
    answer to q2, and are they told the cells were matched?"""
    nb = student((5, "Because."), drop_ids=False)
    nb.cells[5]["id"] = "pasted-1234"
    nb.cells[5].metadata = {}
    messages = restore_locked(nb, TEMPLATE)
    assert short_answers(nb) == {"q2": "Because."}
    assert messages[0].startswith("some of the exercise's cells were replaced by new ones")


def test_extra_cells_do_not_take_roles():
    """With the student's own cells inserted, does each template cell still find its own, and the extra cells
    stay plain code (run as written)?"""
    nb = student((1, "def add(a, b):\n    return a + b"), (5, "Because."))
    scratch = copy.deepcopy(nb.cells[1])
    scratch.source = "print(add(1, 2))"
    nb.cells.insert(2, scratch)
    restore_locked(nb, TEMPLATE)
    assert roles(nb) == ["setup", "answer", None, "check", "train"]
    assert short_answers(nb) == {"q2": "Because."}


def test_unrelated_cell_never_takes_a_skipped_role():
    """Is a student cell unlike the training cell left to run, even in the training cell's position?"""
    nb = student((3, "result = add(2, 3)"))
    restore_locked(nb, TEMPLATE)
    assert roles(nb)[3] is None


def test_missing_short_answer_is_named():
    """When the answer cell was deleted, does the student hear that the answer to q2 was not found?"""
    nb = student()
    del nb.cells[4:]
    messages = restore_locked(nb, TEMPLATE)
    assert any(m.startswith("your answer to q2 was not found") for m in messages)


def test_check_calls_are_check_cells_anywhere():
    """Is a cell that only calls check(...) skipped wherever it is, and other code not?"""
    assert is_check_call('check("q1")\ncheck(\'q2\')  # again')
    assert not is_check_call('check("q1")\nimport os')
    assert not is_check_call("x = 1")


def test_other_notebooks_are_not_recognised():
    """Does a notebook with none of the template's cells match little, and the template itself fully?"""
    other = make_notebook(("import torch", "setup"), ("def evaluate(m):\n    return 1.0", "answer"))
    for i, cell in enumerate(other.cells):
        cell["id"] = f"other-{i}"
    assert match_cells(other, TEMPLATE).coverage < 0.5
    assert match_cells(student(), TEMPLATE).coverage == 1.0
    assert match_cells(student(drop_ids=False), TEMPLATE).by_id_only


REPO = Path(__file__).resolve().parents[2]
EXERCISES = sorted(p.name for p in (REPO / "assignments").iterdir() if (p / f"{p.name}.ipynb").is_file())


@pytest.mark.parametrize("ex_id", EXERCISES)
def test_reference_solutions_without_ids_match_like_with_ids(ex_id):
    """For every exercise, does the reference solution saved without cell ids and metadata (nbformat 4.4, or
    stripped by an editor) get the same roles and written answers as with its ids?"""
    template = read_notebook(REPO / "assignments" / ex_id / f"{ex_id}.ipynb")
    solution = read_notebook(REPO / "solutions" / ex_id / f"{ex_id}.ipynb")
    stripped = copy.deepcopy(solution)
    for cell in stripped.cells:
        cell.pop("id", None)
        cell.metadata = {}
    stripped["nbformat_minor"] = 4
    restore_locked(solution, template)
    restore_locked(stripped, template)
    assert [(c.role, c.source) for c in code_cells(stripped)] == [(c.role, c.source) for c in code_cells(solution)]
    assert short_answers(stripped) == short_answers(solution)
