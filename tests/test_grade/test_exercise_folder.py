"""An exercise is a folder: a new exercise added by files alone (a solution notebook and
``autograder/toy/``, with its own trusted object in ``factories.py``) is built, self-checked and graded
end to end by the real command line, in the sandbox, with nothing added to dlgrade itself."""
from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from sandbox_required import require_sandbox  # tests/test_grade, on the path through its conftest

EXERCISE_YAML = {"title": "Toy: standardise and count (numpy only)", "notebook": "toy.ipynb",
                 "profiles": {"quick": {"time_limit": 60, "request_timeout": 20}}}

FACTORIES = '''"""The toy exercise's own trusted object, built on the student's side."""
from dlgrade.harness.factories import factory


@factory("toy_counter")
def make_counter(start: int = 0):
    """A callable counting up from ``start``, one step per call."""
    class Counter:
        def __init__(self):
            self.value = int(start)

        def __call__(self):
            self.value += 1
            return self.value

    return Counter()
'''

TESTS = '''"""Hidden tests of the toy exercise."""
import numpy as np

from dlgrade.harness import expect_array, question


@question("q1", points=2, title="standardise() gives each column mean 0 and std 1")
def q1(sub, t):
    X = t.ctx.rng("q1").normal(3.0, 2.0, size=(50, 4))
    out = expect_array(sub.call("standardise", X), what="standardise(X)", shape=(50, 4))
    t.close(out, (X - X.mean(0)) / X.std(0), "standardise(X) on secret data", points=2)


@question("q2", points=1, title="call_n() calls a counter n times")
def q2(sub, t):
    n = int(t.ctx.rng("q2").integers(3, 9))
    t.check(sub.call("call_n", sub.make("toy_counter", 10), n) == 10 + n, f"call_n(counter, {n})", points=1)
'''

PUBLIC = '''"""Self-checks of the toy exercise."""
import numpy as np

from dlgrade.harness import expect_array, question


@question("q1", points=1, title="standardise", public=True)
def q1(sub, t):
    out = expect_array(sub.call("standardise", np.array([[1.0, 2.0], [3.0, 6.0]])), what="standardise", shape=(2, 2))
    t.close(out, np.array([[-1.0, -1.0], [1.0, 1.0]]), "standardise([[1, 2], [3, 6]])", points=1)


@question("q2", points=1, title="call_n", public=True)
def q2(sub, t):
    t.check(sub.call("call_n", sub.make("toy_counter", 0), 2) == 2, "call_n(counter, 2) returns 2", points=1)
'''

CELLS = [
    ("markdown", None, "# Toy exercise"),
    ("code", {"role": "setup"}, 'DLGRADE_EXERCISE = "toy"\nimport numpy as np\nfrom dlgrade import check'),
    ("code", {"role": "answer"}, "def standardise(X):\n    ### BEGIN SOLUTION\n    ### HINT: per column\n"
                                 "    X = np.asarray(X, dtype=float)\n    return (X - X.mean(0)) / X.std(0)\n"
                                 "    ### END SOLUTION"),
    ("code", {"role": "check"}, 'check("q1")'),
    ("code", {"role": "answer"}, "def call_n(counter, n):\n    ### BEGIN SOLUTION\n    ### HINT: call it n times\n"
                                 "    value = None\n    for _ in range(n):\n        value = counter()\n"
                                 "    return value\n    ### END SOLUTION"),
    ("code", {"role": "check"}, 'check("q2")'),
]


def build_course(root: Path) -> Path:
    """A course with one exercise, ``toy``, written as files only."""
    cells = []
    for i, (kind, meta, source) in enumerate(CELLS):
        cell = nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source)
        cell["id"] = f"toy-{i}"
        if meta:
            cell.metadata["dlgrade"] = meta
        cells.append(cell)
    nb = nbformat.v4.new_notebook(cells=cells, metadata={"dlgrade": {"exercise": "toy"}, "kernelspec": {
        "display_name": "Python 3", "language": "python", "name": "python3"}})
    (root / "solutions" / "toy").mkdir(parents=True)
    nbformat.write(nb, str(root / "solutions" / "toy" / "toy.ipynb"))
    spec = root / "autograder" / "toy"
    (spec / "samples").mkdir(parents=True)
    (spec / "exercise.yaml").write_text(yaml.safe_dump(EXERCISE_YAML))
    (spec / "tests.py").write_text(TESTS)
    (spec / "public.py").write_text(PUBLIC)
    (spec / "factories.py").write_text(FACTORIES)
    (spec / "samples" / "expected.yaml").write_text("reference.ipynb: {min: 3, max: 3}\nuntouched.ipynb: {min: 0, max: 0}\n")
    (root / "assignments").mkdir()
    return root


def dlgrade(*args, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DLGRADE_COURSE"}
    return subprocess.run([sys.executable, "-m", "dlgrade", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=400)


@pytest.mark.slow
def test_a_sixth_exercise_added_by_files_alone_grades_end_to_end(tmp_path):
    """Does a toy exercise written as files only get its student notebook from `dlgrade assign`, pass its own
    self-checks with `dlgrade check`, and earn full marks for the reference and 0 for the untouched notebook
    from `dlgrade grade` in the sandbox, its own trusted object built on the student's side?"""
    require_sandbox()
    course = build_course(tmp_path / "course")
    spec = course / "autograder" / "toy"

    made = dlgrade("assign", "toy", "--course", course, cwd=tmp_path)
    assert made.returncode == 0, made.stdout + made.stderr
    template = course / "assignments" / "toy" / "toy.ipynb"
    assert "NotImplementedError" in template.read_text() and "X.std(0)" not in template.read_text()
    shutil.copy(course / "solutions" / "toy" / "toy.ipynb", spec / "samples" / "reference.ipynb")
    shutil.copy(template, spec / "samples" / "untouched.ipynb")

    checked = dlgrade("check", template, cwd=course)   # the self-checks, sandboxed, with the toy's own object
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "call_n" in checked.stdout and "bubblewrap" in checked.stdout, checked.stdout
    passed = dlgrade("check", course / "solutions" / "toy" / "toy.ipynb", cwd=course)
    assert passed.returncode == 0, passed.stdout + passed.stderr

    out = tmp_path / "out"
    graded = dlgrade("grade", spec / "samples", "-e", "toy", "--course", course, "--out", out, cwd=tmp_path)
    assert graded.returncode == 0, graded.stdout + graded.stderr
    with open(out / "toy" / "gradebook.csv", newline="") as fh:
        rows = {row["student_id"]: row for row in csv.DictReader(fh)}
    assert float(rows["reference"]["score"]) == 3.0, rows["reference"]
    assert float(rows["untouched"]["score"]) == 0.0, rows["untouched"]
    result = json.loads(next((out / "toy").rglob("reference.json")).read_text())
    assert result["isolation"].startswith("bubblewrap"), result["isolation"]
