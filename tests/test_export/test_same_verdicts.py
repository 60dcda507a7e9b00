"""The real platforms grade exported exercises as ``dlgrade grade`` does.

Notebooks of two exercises go through ``dlgrade grade``, the real ``nbgrader
generate_assignment`` + ``autograde``, ``otter assign`` + ``otter run`` and the
Gradescope zip's ``run_autograder``: confusion, and xor, whose grader trains
ten networks per notebook and compares the count that solve XOR with a
threshold. ``make test`` grades the reference and the untouched notebook of
each; two mistake samples of each run under ``exhaustive`` (``make test-all``),
as they take minutes on every route. Written answers are graded by hand on nbgrader and otter, so only code
questions are compared there. The routes run side by side for minutes: editing
``autograder/<ex>/`` (the students' secret inputs derive from its files) or
dlgrade's source meanwhile makes them disagree.
"""
from __future__ import annotations

import importlib
import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from dlgrade.export.crosscheck import ROUTES
from dlgrade.export.gradescope_runner import results_document
from dlgrade.export.parts import read_parts
from dlgrade.harness.course import find_course

for _tool in ("nbgrader", "otter"):   # the dev extra installs them; CI fails, never skips, without them
    importlib.import_module(_tool) if os.environ.get("CI") == "true" else pytest.importorskip(_tool)

pytestmark = pytest.mark.slow

CASES = [   # (exercise, samples): each case is one export and one batch per route
    pytest.param(("confusion", ("reference", "untouched")), id="confusion"),
    pytest.param(("confusion", ("transposed", "no-eval")), id="confusion-mistakes", marks=pytest.mark.exhaustive),
    pytest.param(("xor", ("reference", "untouched")), id="xor"),
    pytest.param(("xor", ("frozen-bias", "no-activation")), id="xor-mistakes", marks=pytest.mark.exhaustive),
]


@pytest.fixture(scope="module", params=CASES)
def graded(request, tmp_path_factory):
    """Every route's points for one case's notebooks ("untouched": each platform's own student notebook)."""
    exercise, samples = request.param
    ex = find_course().exercise(exercise)
    notebooks = {name: None if name == "untouched" else ex.samples_dir / f"{name}.ipynb" for name in samples}
    work = tmp_path_factory.mktemp(f"platforms-{exercise}")
    with pytest.MonkeyPatch.context() as mp, ThreadPoolExecutor(max_workers=len(ROUTES)) as pool:
        mp.setenv("OMP_NUM_THREADS", "1")   # one thread per grading kernel: no oversubscription on small runners
        # The routes side by side: each is a chain of single-threaded tool processes, so on a 2-core runner
        # running them together takes about half the time of one after the other.
        futures = {name: pool.submit(route, exercise, notebooks, work=work / name) for name, route in ROUTES.items()}
        routes = {name: future.result() for name, future in futures.items()}
    manual = {q.id for q in read_parts(exercise).questions if q.manual}
    return ex, routes, manual


def test_reference_full_and_untouched_zero_everywhere(graded):
    """Does every platform give the reference all the points of the code questions, and the untouched notebook 0?"""
    ex, routes, manual = graded
    if "reference" not in routes["dlgrade"].points:
        pytest.skip("this case grades mistake samples only")
    full = {q["id"]: q["points"] for q in routes["dlgrade"].documents["reference"]["questions"]
            if q["id"] not in manual}
    assert full and all(full.values())
    for name, route in routes.items():
        assert {q: p for q, p in route.points["reference"].items() if q in full} == full, name
        assert {q: p for q, p in route.points["untouched"].items() if q in full} == dict.fromkeys(full, 0), name


def test_same_points_per_question_on_every_platform(graded):
    """Do nbgrader, otter and Gradescope give each notebook the same points per question as dlgrade grade?"""
    ex, routes, manual = graded
    expected = routes["dlgrade"].points
    assert expected and all(set(route.points) == set(expected) for route in routes.values())
    for student, points in expected.items():
        code = {q: p for q, p in points.items() if q not in manual}
        assert code, student
        for name in ("nbgrader", "otter"):
            got = {q: p for q, p in routes[name].points[student].items() if q in code}
            assert got == code, f"{name}, {student}"
        assert routes["gradescope"].points[student] == points, f"gradescope, {student}"
    for mistake in set(expected) - {"reference", "untouched"}:   # a real comparison, not 0 == 0 or full == full
        full = sum(q["points"] for q in routes["dlgrade"].documents[mistake]["questions"])
        assert 0 < sum(expected[mistake].values()) < full, f"{mistake} should earn partial credit"


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
