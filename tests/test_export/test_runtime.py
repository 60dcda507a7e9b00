"""Grading one question inside a platform's kernel."""
from __future__ import annotations

import pytest

from dlgrade.errors import SpecError
from dlgrade.export import runtime
from dlgrade.harness.questions import CheckResult, QuestionResult
from dlgrade.harness.course import find_course


def _result(earned):
    checks = (CheckResult("first", 2.0, earned >= 2), CheckResult("second", 2.0, earned >= 4, hint="try again"))
    return QuestionResult("q1", "Title", 4.0, earned, checks)


def test_otter_cases_pass_up_to_the_points_earned(monkeypatch):
    """Does case k pass exactly when the question earned k points, with the question run once per notebook?"""
    calls = []
    monkeypatch.setattr(runtime, "run_one", lambda *a, **k: calls.append(a) or _result(2.0))
    env = {}
    runtime.otter_case("xor", "q1", env, at_least=1)
    runtime.otter_case("xor", "q1", env, at_least=2)
    with pytest.raises(AssertionError, match=r"2 of 4 points\nq1 \(2/4\): Title") as failed:
        runtime.otter_case("xor", "q1", env, at_least=3)
    assert "hint: try again" in str(failed.value)
    assert len(calls) == 1
    runtime.otter_case("xor", "q1", {}, at_least=1)
    assert len(calls) == 2


def test_student_id_from_environment_or_nbgrader_folder(tmp_path, monkeypatch):
    """Is the student who keys the secret inputs $DLGRADE_STUDENT_ID, else nbgrader's student folder?"""
    monkeypatch.delenv(runtime.STUDENT_ENV, raising=False)
    folder = tmp_path / "autograded" / "ada" / "xor"
    folder.mkdir(parents=True)
    assert runtime.student_id(folder) == "ada"
    assert runtime.student_id(tmp_path) == "student"
    monkeypatch.setenv(runtime.STUDENT_ENV, "s42")
    assert runtime.student_id(folder) == "s42"


def test_exercise_found_upward_or_a_clear_error(tmp_path, monkeypatch):
    """Is the autograder folder found from a folder below it, and its absence one line naming where it looked?"""
    monkeypatch.delenv("DLGRADE_COURSE", raising=False)
    course = find_course().root
    monkeypatch.chdir(course / "autograder" / "xor" / "samples")
    assert runtime.find_exercise("xor").root == course
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SpecError, match="no autograder/xor/exercise.yaml in"):
        runtime.find_exercise("xor")


def test_grade_question_prints_feedback_and_returns_points(monkeypatch, capsys):
    """Does an nbgrader test cell print dlgrade's feedback and return the question's points (partial credit)?"""
    monkeypatch.setattr(runtime, "run_captured", lambda *a, **k: (_result(2.0), ""))
    assert runtime.grade_question("xor", "q1", {}) == 2.0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "q1 (2/4): Title" and "FAIL  second" in out


def test_real_question_in_a_live_namespace(monkeypatch):
    """Does a hidden question run against a namespace holding the reference answer, for full points?"""
    monkeypatch.setenv("DLGRADE_COURSE", str(find_course().root))
    ns = {}
    exec(compile(
        "import numpy as np\n"
        "def predict_perceptron(X, w, b):\n    return (np.asarray(X) @ np.asarray(w) + b > 0).astype(int)\n"
        "def perceptron_update(w, b, x, y, lr=1.0):\n"
        "    e = y - predict_perceptron(np.asarray(x)[None, :], w, b)[0]\n"
        "    return np.asarray(w) + lr * e * np.asarray(x), b + lr * e\n", "answer", "exec"), ns)
    result = runtime.run_one("xor", "q1", ns)
    assert (result.earned, result.points) == (4.0, 4.0)
    ns["perceptron_update"] = lambda w, b, x, y, lr=1.0: (w, b)
    assert runtime.run_one("xor", "q1", ns).earned < 4.0


def test_feedback_comes_before_what_the_code_printed(monkeypatch, capsys):
    """Is the feedback's first line the first line of the test cell's output, whatever the student's code prints?"""
    import sys

    def noisy(*args, **kwargs):
        print("student output")
        print("a warning", file=sys.stderr)
        return _result(4.0)

    monkeypatch.setattr("dlgrade.harness.questions.run_question", noisy)
    monkeypatch.setenv("DLGRADE_COURSE", str(find_course().root))
    assert runtime.grade_question("xor", "q1", {}) == 4.0
    captured = capsys.readouterr()
    assert captured.out.splitlines()[0] == "q1 (4/4): Title"
    assert "student output" in captured.out and "a warning" in captured.out and captured.err == ""
