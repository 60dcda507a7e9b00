"""Do the self-checks agree with the grade? Samples and mutants, self-checked and graded.

For every sample submission (``autograder/<ex>/samples/*.ipynb``) and every
mutant (``autograder/<ex>/mutants.yaml``), each hidden question that
takes points off is a *miss*; the miss is *seen* when the public self-check of
that question fails too. A miss on a question that has no self-check (other than
a short written answer, which no self-check can judge) counts as unseen.
Agreement is seen / misses, per exercise, printed at the end of the run
(section "self-check agreement"); the target is 95%. The reference solution
must pass every self-check: a self-check that fails it would be a bug.
Self-checks never see hidden values: they use their own small cases.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import nbformat
import pytest

from tests.test_exercises.conftest import ROOT
from tests.test_exercises.test_mutants import MUTANT_FILES, apply_mutant, load_mutants

EXERCISES = sorted(p.parent.name for p in (ROOT / "autograder").glob("*/exercise.yaml"))
TARGET = 0.95


def self_check(ex_id: str, path: Path) -> dict:
    """Public check results by question id for the notebook at ``path``, as a student would see them.

    The notebook's code runs as the grader runs it (training and check cells skipped), then
    every self-check of the exercise runs against its namespace.
    """
    from dlgrade.check import public_questions
    from dlgrade.check.report import _ok
    from dlgrade.harness.notebook import code_cells, read_notebook, run_cells
    from dlgrade.harness.questions import run_question
    from dlgrade.harness.submission import LocalSubmission

    os.environ["DLGRADE_GRADING"] = "1"   # the check() cells of the notebook stay silent
    try:
        ns: dict = {"__name__": "__main__"}
        run_cells(code_cells(read_notebook(path)), ns, deadline=time.monotonic() + 300)
    finally:
        os.environ.pop("DLGRADE_GRADING", None)
    sub = LocalSubmission(ns)
    return {q.id: _ok(run_question(q, sub)) for q in public_questions(ex_id)}


def short_answers(notebook) -> set[str]:
    """Ids of the questions answered in writing (markdown cells with the role ``short_answer``)."""
    return {str((c.get("metadata", {}).get("dlgrade") or {}).get("question"))
            for c in notebook.cells if (c.get("metadata", {}).get("dlgrade") or {}).get("role") == "short_answer"}


def notebooks(ex_id: str, tmp_path: Path) -> list[tuple[str, Path, list[str] | None]]:
    """(name, path, questions graded) for every sample and mutant of ``ex_id``."""
    from dlgrade.harness.notebook import read_notebook

    out = [(f"sample {p.name}", p, None) for p in sorted((ROOT / "autograder" / ex_id / "samples").glob("*.ipynb"))]
    mutants = MUTANT_FILES.get(ex_id)
    if mutants is not None:
        solution = read_notebook(ROOT / "solutions" / ex_id / f"{ex_id}.ipynb")
        for mutant in load_mutants(mutants):
            path = tmp_path / f"{ex_id}-{mutant['name']}.ipynb"
            nbformat.write(apply_mutant(solution, mutant), path)
            out.append((f"mutant {mutant['name']}", path, mutant["questions"]))
    return out


@pytest.mark.slow
@pytest.mark.exhaustive
@pytest.mark.parametrize("ex_id", EXERCISES)
def test_self_checks_see_what_the_grade_takes_off(ex_id, grade, agreement_tally, tmp_path):
    """Does the reference solution pass every self-check, and when the hidden tests take points off question q,
    does the self-check of q fail too (95% of the time)?"""
    from dlgrade.harness.notebook import read_notebook

    solution = ROOT / "solutions" / ex_id / f"{ex_id}.ipynb"
    failing = sorted(q for q, ok in self_check(ex_id, solution).items() if not ok)
    assert not failing, f"{ex_id}: the reference solution fails the self-checks of {', '.join(failing)}"
    written = short_answers(read_notebook(solution))
    seen, misses, unseen = 0, 0, []
    for name, path, questions in notebooks(ex_id, tmp_path):
        checked = self_check(ex_id, path)
        for result in grade(ex_id, path, questions):
            if result.earned >= result.points or result.id in written:
                continue
            misses += 1
            if result.id not in checked:
                unseen.append(f"{name} {result.id} ({result.earned:g}/{result.points:g}, no self-check)")
            elif checked[result.id]:
                unseen.append(f"{name} {result.id} ({result.earned:g}/{result.points:g})")
            else:
                seen += 1
    agreement_tally[ex_id] = (seen, misses, unseen)
    rate = seen / misses if misses else 1.0
    print(f"\n{ex_id}: self-checks fail on {seen}/{misses} questions the grade takes points off ({rate:.0%})"
          + (f"; passed on: {', '.join(unseen)}" if unseen else ""))
    assert rate >= TARGET, f"{ex_id}: agreement {rate:.0%} < {TARGET:.0%}; self-checks pass on {', '.join(unseen)}"
