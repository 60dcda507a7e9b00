"""The committed student notebooks and the wheel, checked over every exercise."""
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from dlgrade.assign import main
from dlgrade.harness.course import find_course
from dlgrade.harness.notebook import read_notebook, role

REPO = Path(__file__).resolve().parents[2]
COURSE = find_course(REPO)
EXERCISES = COURSE.exercise_ids()


@pytest.mark.parametrize("exercise", EXERCISES)
def test_committed_student_notebook_is_the_generated_one(exercise):
    """Is assignments/<ex>/ exactly what `dlgrade assign` builds from the solution today?"""
    assert main([exercise], course=REPO, check=True) == []


@pytest.mark.parametrize("exercise", EXERCISES)
def test_student_notebook_has_no_solution_and_no_outputs(exercise):
    """Does the student notebook hold no solution text, no outputs and no solution-only cells?"""
    ex = COURSE.exercise(exercise)
    text = ex.template_path.read_text()
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
    nb = read_notebook(ex.template_path)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
    assert not any(role(c) == "solution_only" for c in nb.cells)
    assert nb.metadata["dlgrade"]["exercise"] == exercise


def test_wheel_ships_no_solutions_hidden_tests_or_keys(tmp_path):
    """Does the built wheel leave out solutions, hidden tests, thresholds and quiz keys?"""
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp_path)], check=True, timeout=300)
    wheel = next(tmp_path.glob("dlgrade-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        assert any(n.startswith("dlgrade/harness/") for n in names)  # the wheel is not empty
        for name in names:
            assert not name.startswith(("solutions/", "autograder/", "quizzes/", "assignments/")), name
            text = zf.read(name).decode("utf-8", "replace")
            assert "### BEGIN SOLUTION\n" not in text or name.endswith("make_stubs.py"), name
            assert "<!-- BEGIN SOLUTION -->\n" not in text, name
