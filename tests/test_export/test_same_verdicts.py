"""The real platforms grade exported exercises as ``dlgrade grade`` does.

For xor (the grader trains ten networks per notebook and compares the count that
solve XOR with a threshold) and confusion, the reference, the untouched student
notebook and two mistake samples go through ``dlgrade grade``, the real
``nbgrader generate_assignment`` + ``autograde``, ``otter assign`` + ``otter run``
and the Gradescope zip's ``run_autograder``. Written answers are graded by hand
on nbgrader and otter, so only code questions are compared there.
"""
from __future__ import annotations

import importlib
import os

import pytest

from dlgrade.export.crosscheck import ROUTES
from dlgrade.export.gradescope_runner import results_document
from dlgrade.export.parts import read_parts
from dlgrade.harness.course import find_course

for _tool in ("nbgrader", "otter"):   # the dev extra installs them; CI fails, never skips, without them
    importlib.import_module(_tool) if os.environ.get("CI") == "true" else pytest.importorskip(_tool)

pytestmark = pytest.mark.slow

MISTAKES = {"xor": ("frozen-bias", "no-activation"), "confusion": ("transposed", "no-eval")}


@pytest.fixture(scope="module", params=["confusion", pytest.param("xor", marks=pytest.mark.exhaustive)])
def graded(request, tmp_path_factory):
    """Every route's points for one exercise's reference, untouched and mistake notebooks."""
    exercise = request.param
    ex = find_course().exercise(exercise)
    notebooks = {"reference": ex.samples_dir / "reference.ipynb", "untouched": None}
    notebooks |= {name: ex.samples_dir / f"{name}.ipynb" for name in MISTAKES[exercise]}
    work = tmp_path_factory.mktemp(f"platforms-{exercise}")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OMP_NUM_THREADS", "1")   # one thread per grading kernel: no oversubscription on small runners
        routes = {name: route(exercise, notebooks, work=work / name) for name, route in ROUTES.items()}
    manual = {q.id for q in read_parts(exercise).questions if q.manual}
    return ex, routes, manual


def test_reference_full_and_untouched_zero_everywhere(graded):
    """Does every platform give the reference all the points of the code questions, and the untouched notebook 0?"""
    ex, routes, manual = graded
    full = {q["id"]: q["points"] for q in routes["dlgrade"].documents["reference"]["questions"]}
    for name, route in routes.items():
        code = {q: p for q, p in route.points["reference"].items() if q in full and q not in manual}
        assert code == {q: p for q, p in full.items() if q not in manual}, name
        assert all(not p for q, p in route.points["untouched"].items() if q in full), name


def test_same_points_per_question_on_every_platform(graded):
    """Do nbgrader, otter and Gradescope give each notebook the same points per question as dlgrade grade?"""
    ex, routes, manual = graded
    expected = routes["dlgrade"].points
    assert set(expected) == {"reference", "untouched", *MISTAKES[ex.id]}
    for student, points in expected.items():
        code = {q: p for q, p in points.items() if q not in manual}
        for name in ("nbgrader", "otter"):
            got = {q: p for q, p in routes[name].points[student].items() if q in code}
            assert got == code, f"{name}, {student}"
        assert routes["gradescope"].points[student] == points, f"gradescope, {student}"
    mistakes = [sum(expected[m].values()) for m in MISTAKES[ex.id]]
    full = sum(expected["reference"].values())
    assert all(0 < m < full for m in mistakes), "the mistake samples should earn partial credit"


def test_gradescope_results_follow_the_documented_schema(graded, validate_gradescope):
    """Is every results.json valid against Gradescope's specification, with the sandbox stated in its output?"""
    ex, routes, manual = graded
    for student, document in routes["gradescope"].documents.items():
        validate_gradescope(document)
        first = document["output"].splitlines()[0]
        assert "isolation: bubblewrap" in first or first.startswith("NOT SANDBOXED"), first
        assert document["score"] == pytest.approx(sum(t["score"] for t in document["tests"]))


def test_feedback_text_is_dlgrade_s(graded, tmp_path):
    """Do students read dlgrade's feedback on every platform: Gradescope's output and nbgrader's test cells?"""
    ex, routes, manual = graded
    for student, record in routes["dlgrade"].documents.items():
        expected = results_document(record)["tests"]
        got = routes["gradescope"].documents[student]["tests"]
        assert [t["output"] for t in got] == [t["output"] for t in expected]
        headlines = {t["number"]: t["output"].splitlines()[0] for t in expected}
        autograded = routes["nbgrader"].documents.get(student) or {}
        for qid, first_line in autograded.items():
            assert first_line == headlines[qid], (student, qid)
