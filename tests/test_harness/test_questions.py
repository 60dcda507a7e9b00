"""Questions and the scoring rule."""
import pytest

from dlgrade.errors import SpecError
from dlgrade.harness import LocalSubmission, load_questions, question, run_question
from dlgrade.harness.errors import StudentError


def q_of(fn):
    return fn.__dlgrade_question__


def test_score_is_sum_of_passed_checks_capped():
    """Is a question's score the passed checks' points, never above its maximum?"""
    @question("q1", points=2, title="t")
    def q(sub, t):
        t.check(True, "a", points=1.5)
        t.check(False, "b", points=1, hint="try again")
        t.check(True, "c", points=1)
    r = run_question(q_of(q), None)
    assert r.earned == 2 and r.points == 2
    assert [c.passed for c in r.checks] == [True, False, True]


def test_student_error_keeps_points_already_earned():
    """Does an error mid-question keep earlier points and report the error?"""
    @question("q1", points=3, title="t")
    def q(sub, t):
        t.check(True, "first", points=1)
        raise StudentError("timeout", "took too long")
    r = run_question(q_of(q), None)
    assert r.earned == 1 and r.error["kind"] == "timeout"


def test_grader_bug_scores_zero_and_asks_for_review():
    """Does a bug in a hidden test cost the question but flag it for an instructor?"""
    @question("q1", points=3, title="t")
    def q(sub, t):
        t.check(True, "first", points=1)
        {}["missing"]
    r = run_question(q_of(q), None)
    assert r.needs_review and r.error["kind"] == "grader_error" and r.earned == 1


def test_close_compares_numbers_and_reports_shapes():
    """Does t.close pass within tolerance and explain a shape mismatch?"""
    @question("q1", points=2, title="t")
    def q(sub, t):
        t.close([1.0, 2.0 + 1e-9], [1, 2], "close", points=1)
        t.close([1.0, 2.0], [[1, 2]], "shape", points=1)
    r = run_question(q_of(q), None)
    assert r.earned == 1
    assert "shape (2,), expected (1, 2)" in r.checks[1].detail


def test_thresholds_need_a_context():
    """Is asking for a threshold without a grading context a spec error, not a silent pass?"""
    @question("q1", points=1, title="t")
    def q(sub, t):
        t.at_least("acc", 0.9, "accuracy", points=1)
    with pytest.raises(SpecError):
        run_question(q_of(q), None)


def test_load_questions_in_file_order_and_rejects_duplicates(tmp_path):
    """Are questions collected in file order, and duplicate ids refused with the file named?"""
    src = ("from dlgrade.harness import question\n"
           "@question('q2', points=1, title='b')\ndef b(sub, t): pass\n"
           "@question('q1', points=1, title='a')\ndef a(sub, t): pass\n")
    path = tmp_path / "tests.py"
    path.write_text(src)
    assert [q.id for q in load_questions(path)] == ["q2", "q1"]
    path.write_text(src.replace("'q1'", "'q2'"))
    with pytest.raises(SpecError, match="duplicate question ids"):
        load_questions(path)


def test_local_submission_works_inside_a_question():
    """Does a question body talk to student code through the Submission API end to end?"""
    ns = {}
    exec("def double(x):\n    return 2 * x\n", ns)

    @question("q1", points=1, title="double")
    def q(sub, t):
        t.check(sub.call("double", 21) == 42, "doubles", points=1)
    assert run_question(q_of(q), LocalSubmission(ns)).earned == 1
