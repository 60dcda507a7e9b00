"""Self-checks on hand-written answers: asymmetric cases, lazy layers, plain wording."""
from __future__ import annotations

import textwrap

import pytest


def _run(exercise: str, question: str, source: str):
    from dlgrade.check import public_questions
    from dlgrade.check.report import CheckReport
    from dlgrade.harness.questions import run_question
    from dlgrade.harness.submission import LocalSubmission

    ns: dict = {"__name__": "__main__"}
    exec(compile(textwrap.dedent(source), f"<{exercise}-{question}>", "exec"), ns)  # noqa: S102 - test code
    results = [run_question(q, LocalSubmission(ns)) for q in public_questions(exercise, [question])]
    return CheckReport(exercise, results)


CONFUSION = """
import numpy as np

def confusion_matrix(y_true, y_pred, num_classes=None):
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    k = num_classes or int(max(y_true.max(), y_pred.max())) + 1
    cm = np.zeros((k, k), dtype=int)
    for t, p in zip(y_true, y_pred):
        cm[{index}] += 1
    return cm
"""


@pytest.mark.parametrize("index, passes", [("t, p", True), ("p, t", False)], ids=["rows-true", "transposed"])
def test_a_transposed_confusion_matrix_fails_its_self_check(index, passes):
    """Does the self-check of confusion q2 tell cm[true, pred] from its transpose (an asymmetric case)?"""
    report = _run("confusion", "q2", CONFUSION.format(index=index))
    assert report.passed is passes, str(report)
    if not passes:
        assert "not yet: rows are true classes" in str(report) and "transpose" in str(report)


LAZY_CNN = """
import torch
from torch import nn

def build_mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 64), nn.ReLU(), nn.Linear(64, 10))

def build_cnn():
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(4), nn.Flatten(),
                         nn.LazyLinear(10))
"""


def test_lazy_layers_are_counted_after_one_forward():
    """Does a CNN ending in nn.LazyLinear pass the parameter-count self-check instead of crashing it?"""
    report = _run("cifar", "q2", LAZY_CNN)
    assert report.passed, str(report)


CHANCE_TABLE = """
from torch import nn

def build_mlp(hidden_sizes, in_features=784, n_classes=10):
    sizes = [in_features, *hidden_sizes]
    layers = [nn.Flatten()]
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(sizes[-1], n_classes))

ablation_results = {"no_hidden": 0.09, "base": 0.11, "deeper": 0.10, "wider": 0.12, "narrower": 0.10}
"""


def test_report_says_what_passed_and_what_is_not_yet_done():
    """Does a table of chance-level accuracies fail the sanity check, with passed checks listed as 'ok:'
    and failed ones as 'not yet:' (never as bare statements)?"""
    report = _run("ablation", "q4", CHANCE_TABLE)
    text = str(report)
    assert not report.passed
    assert "ok: ablation_results exists" in text and "not yet: every variant learned" in text
    for line in text.splitlines()[1:]:
        assert line.startswith(("PASS", "FAIL", "      ok:", "      not yet:", "        hint:", "      stopped:")), line


def test_the_notebook_time_limit_is_the_exercises_and_a_broken_spec_is_one_error(tmp_path, monkeypatch):
    """`dlgrade check` runs a notebook with the time limit grading gives it (the exercise's quick profile),
    a default without a course folder, and stops on a broken exercise.yaml with the same error as `grade`."""
    import shutil
    from pathlib import Path

    from dlgrade.check.run_notebook import DEFAULT_TIME_LIMIT, time_limit_of
    from dlgrade.errors import SpecError

    repo = Path(__file__).resolve().parents[2]
    monkeypatch.chdir(repo)
    monkeypatch.delenv("DLGRADE_COURSE", raising=False)
    assert time_limit_of("xor") == 60 and time_limit_of("cifar") == 120
    course = tmp_path / "course"
    shutil.copytree(repo / "autograder" / "xor", course / "autograder" / "xor")
    (course / "assignments").mkdir()
    spec = course / "autograder" / "xor" / "exercise.yaml"
    spec.write_text(spec.read_text().replace("time_limit: 60", "time_limit: -5"))
    monkeypatch.setenv("DLGRADE_COURSE", str(course))
    with pytest.raises(SpecError, match="exercise.yaml: profiles.quick: field 'time_limit' should be positive"):
        time_limit_of("xor")
    assert time_limit_of("confusion") == DEFAULT_TIME_LIMIT     # not in that course folder


@pytest.mark.slow
def test_a_cell_that_never_ends_is_stopped_at_the_limit(tmp_path):
    """Is a notebook whose cell loops forever stopped at the time limit, the cell named, and the checks run?"""
    import json
    from pathlib import Path

    from dlgrade.check import main

    repo = Path(__file__).resolve().parents[2]
    nb = json.loads((repo / "assignments" / "xor" / "xor.ipynb").read_text())
    nb["cells"].append({"cell_type": "code", "id": "loop", "metadata": {}, "outputs": [], "execution_count": None,
                        "source": "while True:\n    pass\n"})
    path = tmp_path / "xor.ipynb"
    path.write_text(json.dumps(nb))
    report = main(path, time_limit=5)
    assert not report.passed
    assert any(f"cell {len(nb['cells'])}:" in n and "time limit" in n for n in report.notes), report.notes
