"""The grading pipeline end to end on the tiny exercise (q1: 2 points, q2: 3, q3: 2), with the stand-in worker."""
from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest

from builders import copy_course, grader, set_profile, template_of, write_submission, write_v3
from dlgrade.grade import STEPS
from fake_worker import FakeWorker

NB = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}}

# name -> (how to write it, expected status, {question: points}, text that must appear in the messages)
BAD_INPUTS = {
    "invalid_json": (lambda p, t: p.write_text('{"cells": [ oops'), "unreadable",
                     {"q1": 0, "q2": 0, "q3": 0}, "invalid JSON"),
    "not_a_notebook": (lambda p, t: p.write_text('{"hello": "world"}'), "unreadable",
                       {"q1": 0, "q2": 0, "q3": 0}, "not a notebook"),
    "binary": (lambda p, t: p.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe"), "unreadable",
               {"q1": 0, "q2": 0, "q3": 0}, "not UTF-8"),
    "empty_file": (lambda p, t: p.write_text(""), "unreadable", {"q1": 0, "q2": 0, "q3": 0}, "empty"),
    "empty_notebook": (lambda p, t: p.write_text(json.dumps(NB | {"cells": []})), "unreadable",
                       {"q1": 0, "q2": 0, "q3": 0}, "no cells"),
    "old_nbformat": (lambda p, t: write_v3(p, "import numpy as np",
                                           "def add(a, b):\n    return np.asarray(a) + np.asarray(b)",
                                           "def predict(X):\n    return (X[:, 0] > X[:, 1]).astype(int)"),
                     "graded", {"q1": 2, "q2": 3, "q3": 0}, "nbformat 3"),
    "syntax_error": (lambda p, t: write_submission(t, p, add="def add(a, b) return a + b"), "graded",
                     {"q1": 0, "q2": 3, "q3": 2}, "SyntaxError"),
    "missing_function": (lambda p, t: write_submission(t, p, predict="# I did not get to this"), "graded",
                         {"q1": 2, "q2": 0, "q3": 2}, "`predict` is not defined"),
    "wrong_signature": (lambda p, t: write_submission(t, p, add="def add(x, y):\n    return x + y"), "graded",
                        {"q1": 1, "q2": 3, "q3": 2}, "add takes the parameters (a, b)"),
    "wrong_type": (lambda p, t: write_submission(t, p, predict="def predict(X):\n    return 'class 1'"),
                   "graded", {"q1": 2, "q2": 0, "q3": 2}, "should be an array, got str"),
    "wrong_shape": (lambda p, t: write_submission(t, p, predict="def predict(X):\n    return X"), "graded",
                    {"q1": 2, "q2": 0, "q3": 2}, "expected (200)"),
    "nan": (lambda p, t: write_submission(t, p, predict="def predict(X):\n    return np.full(len(X), np.nan)"),
            "graded", {"q1": 2, "q2": 0, "q3": 2}, "NaN"),
    "request_timeout": (lambda p, t: write_submission(
        t, p, predict="import time\ndef predict(X):\n    time.sleep(30)"), "graded",
        {"q1": 2, "q2": 0, "q3": 2}, "time limit"),
    "notebook_timeout": (lambda p, t: write_submission(
        t, p, add="import time\ntime.sleep(4)\n" + "def add(a, b):\n    return np.asarray(a) + np.asarray(b)"),
        "graded", {"q1": 2, "q2": 0, "q3": 2}, "ran out of time"),
    "out_of_memory": (lambda p, t: write_submission(
        t, p, add="def add(a, b):\n    raise MemoryError()"), "graded", {"q1": 0, "q2": 3, "q3": 2},
        "ran out of memory"),
    "sys_exit": (lambda p, t: write_submission(
        t, p, add="import sys\ndef add(a, b):\n    return np.asarray(a) + np.asarray(b)\nsys.exit(3)"),
        "graded", {"q1": 2, "q2": 3, "q3": 2}, "sys.exit"),
    "pip_install": (lambda p, t: write_submission(
        t, p, add="!pip install numpy\n" + "def add(a, b):\n    return np.asarray(a) + np.asarray(b)"),
        "graded", {"q1": 2, "q2": 3, "q3": 2}, "!pip install numpy"),
}


@pytest.fixture(scope="module")
def bad_batch(tmp_path_factory):
    """Every bad input above graded in one batch (notebook time limit 3 s, request limit 2 s)."""
    root = tmp_path_factory.mktemp("bad")
    course = copy_course(root / "course")
    set_profile(course, time_limit=3, request_timeout=2)
    folder = root / "submissions"
    folder.mkdir()
    for name, (write, *_rest) in BAD_INPUTS.items():
        write(folder / f"{name}.ipynb", template_of(course))
    summary = grader(course, root / "out")([folder])
    return summary, {name: json.loads((summary.out / "results" / f"{name}.json").read_text())
                     for name in BAD_INPUTS}


@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_bad_input_gets_a_clear_message_and_the_points_that_stand(bad_batch, name):
    """Does each kind of bad submission get its status, a message naming the problem, and exactly the
    points of the questions it still answers?"""
    _, records = bad_batch
    _, status, points, text = BAD_INPUTS[name]
    record = records[name]
    assert record["status"] == status
    assert {q["id"]: q["earned"] for q in record["questions"]} == points
    assert record["score"] == sum(points.values())
    said = json.dumps([record["problem"], record["messages"], record["cells"],
                       [(q["error"], q["checks"]) for q in record["questions"]]])
    assert text in said


def test_one_broken_submission_never_stops_the_batch(bad_batch):
    """Does a batch full of broken notebooks still produce one row per student in the gradebook?"""
    summary, _ = bad_batch
    rows = summary.gradebook.read_text().splitlines()
    assert len(rows) == 1 + len(BAD_INPUTS)
    assert summary.statuses == {"graded": 12, "unreadable": 5}


def test_samples_score_as_expected(grade, course, read_result):
    """Do the tiny exercise's samples get full marks, partial credit and nothing, with a plot kept for the good one?"""
    summary = grade([course / "autograder" / "tiny" / "samples"])
    scores = {n: read_result(summary, n)["score"] for n in ("good", "partial", "untouched")}
    assert scores == {"good": 7, "partial": 3, "untouched": 0}
    good = read_result(summary, "good")
    assert good["figures"] == ["figures/good/fig-1.png"]
    assert (summary.out / good["figures"][0]).read_bytes().startswith(b"\x89PNG")
    steps = {s.__name__ for s in STEPS} | {"total", "train", "score", "close"}   # and where the overhead went:
    assert steps <= set(good["timings"]) <= steps | {"requests", "exchange", "integrity"}
    assert good["data"]["xor"]["source"] == "embedded"
    assert good["versions"]["dlgrade"] and good["grader"].startswith(good["versions"]["dlgrade"] + "+")


def test_edited_locked_cell_is_restored(grade, make_submission, read_result):
    """Is a setup cell the student broke put back from the template, and the student told?"""
    path = make_submission("alice.ipynb", setup="np = None  # oops")
    record = read_result(grade([path]), "alice")
    assert record["score"] == 7
    assert any("protected cell 2 was edited" in m for m in record["messages"])


def test_notebook_for_another_exercise_is_noted(grade, make_submission, read_result):
    """Is a notebook whose metadata names another exercise graded, with a note saying so?"""
    record = read_result(grade([make_submission("x.ipynb", metadata={"exercise": "mlp"})]), "x")
    assert record["score"] == 7
    assert any("says it is for exercise 'mlp'" in m for m in record["messages"])


def test_deleted_locked_cell_is_restored(grade, course, tmp_path, read_result):
    """Is a deleted setup cell put back, so that the student's code still finds numpy?"""
    import nbformat

    nb = nbformat.read(write_submission(template_of(course), tmp_path / "s" / "bob.ipynb"), as_version=4)
    del nb.cells[1]
    nbformat.write(nb, str(tmp_path / "s" / "bob.ipynb"))
    record = read_result(grade([tmp_path / "s" / "bob.ipynb"]), "bob")
    assert record["score"] == 7
    assert any("was missing and was restored" in m for m in record["messages"])


def test_crash_in_one_question_costs_only_that_question(grade, make_submission, read_result):
    """After a question kills the student's process, do the later questions still score (the worker restarts it)?"""
    path = make_submission("carol.ipynb", add="import os\ndef add(a, b):\n    raise SystemExit(1)")
    record = read_result(grade([path]), "carol")
    assert [q["earned"] for q in record["questions"]] == [0, 3, 2]
    assert record["questions"][0]["error"]["kind"] == "crashed"


def test_worker_failure_costs_one_submission_and_the_worker_is_replaced(grade, make_submission, read_result):
    """When the worker itself fails on one notebook, is that submission flagged and the rest graded by a new worker?"""
    class Flaky(FakeWorker):
        def open(self, nb, *, student_id, **kw):
            if student_id == "bad":
                raise RuntimeError("zygote died")
            return super().open(nb, student_id=student_id, **kw)

    paths = [make_submission(f"{n}.ipynb") for n in ("a", "bad", "c")]
    before = len(FakeWorker.created)
    summary = grade(paths, worker_factory=Flaky)
    bad = read_result(summary, "bad")
    assert bad["status"] == "grader_error" and "zygote died" in bad["problem"]["message"]
    assert "(notebook)" in bad["needs_review"]
    assert bad["questions"][2]["earned"] == 2  # the short answer is still graded
    assert [read_result(summary, n)["score"] for n in ("a", "c")] == [7, 7]
    assert len(FakeWorker.created) - before == 2


def test_a_notebook_that_also_breaks_its_record_costs_only_itself(grade, make_submission, read_result,
                                                                   monkeypatch):
    """When the grader fails on a notebook and reading that notebook's answers for its record fails too, is the
    submission still recorded (grader_error, without its answers) and the rest of the batch graded?"""
    from dlgrade.grade import score as score_module

    class Flaky(FakeWorker):
        def open(self, nb, *, student_id, **kw):
            if student_id == "bad":
                raise RuntimeError("zygote died")
            return super().open(nb, student_id=student_id, **kw)

    real = score_module.short_answers

    def answers(nb):
        if any("BREAKS THE RECORD" in c.source for c in nb.cells):
            raise TypeError("expected string or bytes-like object, got 'int'")
        return real(nb)

    monkeypatch.setattr(score_module, "short_answers", answers)
    paths = [make_submission("a.ipynb"), make_submission("bad.ipynb", add="# BREAKS THE RECORD\ndef add(a, b):\n"
                                                                           "    return a + b")]
    summary = grade(paths, worker_factory=Flaky)
    bad = read_result(summary, "bad")
    assert bad["status"] == "grader_error" and bad["answers"] == {} and bad["code"] == []
    assert read_result(summary, "a")["score"] == 7


def test_a_failed_close_keeps_the_result_and_is_reported(grade, make_submission, read_result, caplog):
    """When ending a submission's process fails after grading, is its result kept, the batch graded on, and
    the failure reported as a warning naming the file (not only in the debug log)?"""
    class FailsToClose(FakeWorker):
        def open(self, nb, *, student_id, **kw):
            sub = super().open(nb, student_id=student_id, **kw)
            if student_id == "stuck":
                def close():
                    raise OSError("the process would not die")
                sub.close = close
            return sub

    paths = [make_submission(f"{n}.ipynb") for n in ("stuck", "next")]
    with caplog.at_level("WARNING", logger="dlgrade"):
        summary = grade(paths, worker_factory=FailsToClose)
    assert [read_result(summary, n)["score"] for n in ("stuck", "next")] == [7, 7]
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("stuck.ipynb" in m and "the process would not die" in m for m in warned), warned


def test_sandbox_cannot_see_outputs_tests_or_submissions(grade, course, make_submission, tmp_path):
    """Are the output folder, the hidden tests, the solutions and the submissions' folder hidden from the worker?"""
    path = make_submission("dave.ipynb")
    grade([path])
    hidden = set(FakeWorker.created[-1].options["hidden_paths"])
    for folder in (tmp_path / "out", course / "autograder", course / "solutions", path.parent):
        assert folder.resolve() in hidden


def test_unknown_exercise_is_one_clear_error(grade, make_submission):
    """Does an unknown exercise id stop with a DlgradeError naming the known ones?"""
    from dlgrade.errors import DlgradeError

    with pytest.raises(DlgradeError, match="unknown exercise 'nope'") as info:
        grade([make_submission("x.ipynb")], exercise="nope")
    assert "tiny" in info.value.hint


def test_grading_twice_gives_identical_gradebooks(course, tmp_path):
    """Does grading the same folder twice (fresh output folders, 1 and 2 workers) give byte-identical CSVs?"""
    samples = course / "autograder" / "tiny" / "samples"
    first = grader(course, tmp_path / "one")([samples]).gradebook.read_bytes()
    second = grader(course, tmp_path / "two")([samples], workers=2).gradebook.read_bytes()
    assert first == second
    assert first.count(b"\n") == 4


def test_secret_comes_from_the_autograder_folder(course, monkeypatch):
    """Is the default secret stable for the same folder, changed by DLGRADE_SECRET, and absent from the version?"""
    from dlgrade.grade.keys import grader_version, grading_secret
    from dlgrade.harness.course import Exercise

    ex = Exercise.load(course, "tiny")
    monkeypatch.delenv("DLGRADE_SECRET", raising=False)
    secret = grading_secret(ex)
    assert secret == grading_secret(Exercise.load(course, "tiny"))
    monkeypatch.setenv("DLGRADE_SECRET", "other")
    assert grading_secret(ex) == b"other" != secret
    assert secret.hex()[:12] not in grader_version(ex, secret)
    assert grader_version(ex, secret) != grader_version(ex, b"other")



def test_only_what_grades_changes_the_secret(course, monkeypatch):
    """Do edits to self-checks, mutants and samples leave the secret alone, while an edit to a hidden test changes it?"""
    from dlgrade.grade.keys import grader_version, grading_secret
    from dlgrade.harness.course import Exercise

    monkeypatch.delenv("DLGRADE_SECRET", raising=False)
    spec = course / "autograder" / "tiny"
    secret = grading_secret(Exercise.load(course, "tiny"))
    (spec / "public.py").write_text("# self-checks, edited\n")
    (spec / "mutants.yaml").write_text("- name: edited\n")
    (spec / "samples" / "extra.ipynb").write_text("{}")
    ex = Exercise.load(course, "tiny")
    assert grading_secret(ex) == secret and grader_version(ex, secret) == grader_version(ex, grading_secret(ex))
    tests = spec / "tests.py"
    tests.write_text(tests.read_text() + "\n# edited\n")
    assert grading_secret(Exercise.load(course, "tiny")) != secret


REAL_CASES = ("syntax_error", "notebook_timeout", "request_timeout", "sys_exit", "pip_install")


@pytest.fixture()
def open_tmp_path():
    """A temporary folder that the sandbox's unprivileged user can read (pytest's own is private to us)."""
    path = Path(tempfile.mkdtemp(prefix="dlgrade-test-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.slow
def test_real_sandboxed_worker_grades_like_the_stand_in(open_tmp_path):
    """In the real sandboxed worker, do the samples get the stand-in's gradebook, and do timeouts, exits and
    out-of-memory cost only their own question?"""
    tmp_path = open_tmp_path
    course = copy_course(tmp_path / "course")
    set_profile(course, time_limit=3, request_timeout=2)
    folder = tmp_path / "submissions"
    folder.mkdir()
    for name in REAL_CASES:
        BAD_INPUTS[name][0](folder / f"{name}.ipynb", template_of(course))
    write_submission(template_of(course), folder / "memory_hog.ipynb",
                     add="def add(a, b):\n    hog = bytearray(64 << 30)\n    return np.asarray(a) + np.asarray(b)")
    samples = course / "autograder" / "tiny" / "samples"
    real = grader(course, tmp_path / "real")([samples, folder], worker_factory=None)
    fake = grader(course, tmp_path / "fake")([samples])
    assert not real.isolation.startswith("none: in-process")
    real_rows = real.gradebook.read_text().splitlines()
    assert [r for r in real_rows if r.split(",")[0] in ("good", "partial", "untouched")] == \
        fake.gradebook.read_text().splitlines()[1:]
    for name in REAL_CASES + ("memory_hog",):
        record = json.loads((real.out / "results" / f"{name}.json").read_text())
        points = BAD_INPUTS[name][2] if name in BAD_INPUTS else {"q1": 0, "q2": 3, "q3": 2}
        assert {q["id"]: q["earned"] for q in record["questions"]} == points, name
    hog = json.loads((real.out / "results" / "memory_hog.json").read_text())
    assert "memory" in json.dumps(hog["questions"][0]["error"])
