"""Self-checks inside a notebook kernel."""
import pytest

import importlib

check_mod = importlib.import_module("dlgrade.check")  # the stage module (dlgrade.check is the function)
from dlgrade.errors import DlgradeError

PUBLIC = '''
from dlgrade.harness import question

@question("q1", points=1, title="square", public=True)
def q1(sub, t):
    t.check(sub.call("square", 3) == 9, "square(3) == 9", points=1, hint="multiply x by itself")
'''


@pytest.fixture()
def public_dir(tmp_path, monkeypatch):
    (tmp_path / "toy.py").write_text(PUBLIC)
    monkeypatch.setattr(check_mod, "PUBLIC_DIR", tmp_path)
    return tmp_path


def test_passing_and_failing_answers_are_reported(public_dir):
    """Does check() pass a right answer and show the hint for a wrong one, as text and HTML?"""
    ns = {"DLGRADE_EXERCISE": "toy"}
    exec("def square(x):\n    return x * x\n", ns)
    report = check_mod.check_in_kernel("q1", namespace=ns)
    assert report.passed and "PASS" in str(report)
    exec("def square(x):\n    return x + x\n", ns)
    report = check_mod.check_in_kernel("q1", namespace=ns)
    assert not report.passed
    assert "multiply x by itself" in str(report) and "multiply x by itself" in report._repr_html_()


def test_stub_is_not_a_pass(public_dir):
    """Does an untouched stub fail with a 'not implemented' message?"""
    ns = {"DLGRADE_EXERCISE": "toy"}
    exec("def square(x):\n    raise NotImplementedError()\n", ns)
    report = check_mod.check_in_kernel(namespace=ns)
    assert not report.passed and "not implemented" in str(report)


def test_html_escapes_student_text(public_dir):
    """Is a student's exception text escaped in the HTML report?"""
    ns = {"DLGRADE_EXERCISE": "toy"}
    exec("def square(x):\n    raise ValueError('<script>alert(1)</script>')\n", ns)
    html = check_mod.check_in_kernel(namespace=ns)._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_setup_cell_not_run_and_unknown_question(public_dir):
    """Do a missing DLGRADE_EXERCISE and an unknown question id give clear errors?"""
    with pytest.raises(DlgradeError, match="setup"):
        check_mod.check_in_kernel(namespace={})
    with pytest.raises(DlgradeError, match="no question q9"):
        check_mod.check_in_kernel("q9", namespace={"DLGRADE_EXERCISE": "toy"})


def test_quiet_while_grading(public_dir, monkeypatch):
    """Does check() do nothing while the grader executes the notebook?"""
    monkeypatch.setenv("DLGRADE_GRADING", "1")
    assert check_mod.check_in_kernel(namespace={"DLGRADE_EXERCISE": "toy"}) is None


def test_check_stays_callable_after_the_stage_is_imported():
    """Does `from dlgrade import check` give the function even after dlgrade.check was imported,
    as when a student re-runs the setup cell?"""
    import subprocess
    import sys

    code = ("import dlgrade.check\nfrom dlgrade import check\nassert callable(check), check\n"
            "import dlgrade.check.report\nfrom dlgrade import check\nassert callable(check), check\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
