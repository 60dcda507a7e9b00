"""Shared by the exercise tests: discovery of exercises and one cached grading run per notebook."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

_KILLS: dict[str, list[tuple[str, bool, bool]]] = {}
"""Mutant outcomes per exercise as (name, killed, marked equivalent), filled through the
``kill_tally`` fixture, reported at the end."""


def notebook_key(nb) -> str:
    """A hash of what the grader runs: cell types, roles and sources (not outputs or metadata)."""
    cells = [(c.cell_type, (c.get("metadata", {}).get("dlgrade") or {}).get("role"), c.source) for c in nb.cells]
    return hashlib.sha256(json.dumps(cells).encode()).hexdigest()


_AGREEMENT: dict[str, tuple[int, int, list[str]]] = {}
"""Self-check agreement per exercise (seen, misses, unseen), filled by test_agreement."""


@pytest.fixture(scope="session")
def agreement_tally() -> dict[str, tuple[int, int, list[str]]]:
    """Where test_agreement records, per exercise, how many lost questions the self-checks saw."""
    return _AGREEMENT


@pytest.fixture(scope="session")
def kill_tally() -> dict[str, list[tuple[str, bool, bool]]]:
    """Where test_mutants records (mutant name, killed, equivalent) per exercise for the end-of-run summary."""
    return _KILLS


@pytest.fixture(scope="session")
def grade():
    """``grade(ex_id, path, questions=None) -> list[QuestionResult]``: run_trusted on the quick
    profile, cached by notebook content, so the reference solution and samples/reference.ipynb
    (or the assignment and samples/untouched.ipynb) share one run. ``grade.draws(ex_id, path)``: that
    run's draws from torch's shared generator (``run_trusted``'s ``shared_draws``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import torch

    from dlgrade.harness.course import Exercise
    from dlgrade.harness.local import run_trusted
    from dlgrade.harness.notebook import read_notebook

    torch.set_num_threads(min(2, torch.get_num_threads()))
    cache: dict = {}

    def run(ex_id: str, path: Path, questions: list[str] | None = None):
        key = (ex_id, notebook_key(read_notebook(path)), tuple(questions or ()))
        if key not in cache:
            exercise = Exercise.load(ROOT, ex_id)
            try:
                draws: list[str] | None = None if questions else []    # watched on full runs
                cache[key] = run_trusted(exercise, Path(path), profile="quick", questions=questions,
                                         shared_draws=draws)
                run.shared_draws[key] = draws
            finally:
                plt.close("all")
        return cache[key]

    def shared_draws(ex_id: str, path: Path) -> list[str]:
        """The hidden tests' draws from torch's process-wide generator (seeding.SharedDraws) while
        grading ``path`` with every question."""
        run(ex_id, path)
        return run.shared_draws[(ex_id, notebook_key(read_notebook(path)), ())]

    run.shared_draws = {}
    run.draws = shared_draws
    return run


def pytest_terminal_summary(terminalreporter):
    if _AGREEMENT:
        terminalreporter.section("self-check agreement")
        for ex_id in sorted(_AGREEMENT):
            seen, misses, unseen = _AGREEMENT[ex_id]
            rate = f"{seen / misses:.0%}" if misses else "n/a"
            terminalreporter.write_line(f"{ex_id:<12} {seen}/{misses} lost questions flagged by self-checks ({rate})"
                                        + (f"  (missed: {', '.join(unseen)})" if unseen else ""))
    if not _KILLS:
        return
    terminalreporter.section("mutant kill rate")
    total = killed = equivalents = 0
    for ex_id in sorted(_KILLS):
        outcomes = _KILLS[ex_id]
        mutants = [(name, hit) for name, hit, equivalent in outcomes if not equivalent]
        same = [name for name, hit, equivalent in outcomes if equivalent]
        k = sum(hit for _, hit in mutants)
        total, killed, equivalents = total + len(mutants), killed + k, equivalents + len(same)
        survivors = ", ".join(name for name, hit in mutants if not hit)
        charged = ", ".join(name for name, hit, equivalent in outcomes if equivalent and hit)
        terminalreporter.write_line(
            f"{ex_id:<12} {k}/{len(mutants)} killed"
            + (f", {len(same)} equivalent (expected to survive: {', '.join(same)})" if same else "")
            + (f"  (survived: {survivors})" if survivors else "")
            + (f"  (equivalent but charged: {charged})" if charged else ""))
    rate = f"{killed / total:.0%}" if total else "n/a"
    terminalreporter.write_line(f"{'all':<12} {killed}/{total} killed ({rate})"
                                + (f", {equivalents} equivalent" if equivalents else ""))
