"""`dlgrade similarity`: from graded results to a ranked, side-by-side report, on the xor exercise's samples.

Results are written here the way `dlgrade grade` writes them (``results/<name>.json``
with the notebook's ``code`` and ``answers``), so no grading is needed.
"""
from __future__ import annotations

import csv
import json
import sys

import pytest
from similarity_cases import ROOT, _code_rename, _code_reorder, _code_split_merge, cells_of, work
from typer.testing import CliRunner

from dlgrade.errors import DlgradeError
from dlgrade.harness.course import find_course
from dlgrade.harness.notebook import read_notebook, short_answers
from dlgrade.similarity import compare, main
from dlgrade.similarity.load_work import read_layout

SAMPLES = ROOT / "autograder" / "xor" / "samples"
COPIED_ANSWER = ("A stack of linear layers is just one linear function, because multiplying the weight matrices "
                 "gives a single matrix. A linear model can only draw a straight line, and no straight line "
                 "separates the XOR points, so it gets 3 of 4 right at best. The tanh bends the space.")


def write_result(folder, name, cells, answers, student_id=None):
    record = {"schema": 1, "student_id": student_id or name, "name": "", "file": f"{name}.ipynb",
              "exercise": "xor", "status": "graded", "code": cells, "answers": answers}
    (folder / "results").mkdir(parents=True, exist_ok=True)
    (folder / "results" / f"{name}.json").write_text(json.dumps(record), encoding="utf-8")


@pytest.fixture(scope="module")
def layout():
    ex = find_course(ROOT).exercise("xor")
    return read_layout(ex.template_path, ex.solution_path)


@pytest.fixture()
def graded(tmp_path, layout):
    """An output folder with the xor samples, a disguised copy of frozen-bias's code, and three students
    sharing one written answer (with small changes)."""
    import random

    folder = tmp_path / "out" / "xor"
    for path in sorted(SAMPLES.glob("*.ipynb")):
        nb = read_notebook(path)
        write_result(folder, path.stem, cells_of(nb), short_answers(nb))
    base = cells_of(read_notebook(SAMPLES / "frozen-bias.ipynb"))
    rng = random.Random(1)
    copy = _code_split_merge(_code_reorder(_code_rename([dict(c) for c in base], layout, rng), layout, rng),
                             layout, rng)
    write_result(folder, "copier", copy, {})
    for name, text in (("ann", COPIED_ANSWER), ("bob", COPIED_ANSWER.lower().replace(".", "!")),
                       ("cat", COPIED_ANSWER.replace("just", "only"))):
        write_result(folder, name, [], {"q6": text})
    return tmp_path / "out"


def test_copies_are_flagged_and_independent_work_is_not(graded):
    """Are the disguised code copy and the shared written answer flagged, and no pair of the samples?"""
    result = main("xor", out=graded, course=ROOT)
    pairs = {(result.works[p.a].key, result.works[p.b].key, p.question) for p in result.flagged()}
    assert ("copier", "frozen-bias", "q1") in pairs
    assert {("ann", "bob", "q6"), ("ann", "cat", "q6"), ("bob", "cat", "q6")} <= pairs
    samples = {p.stem for p in SAMPLES.glob("*.ipynb")}
    assert not [p for p in pairs if p[0] in samples and p[1] in samples]
    # The shared answer is frozen-bias's, whose code the copier took: one group through both questions.
    assert [{result.works[i].key for i in g} for g in result.groups] == [{"ann", "bob", "cat", "frozen-bias",
                                                                          "copier"}]


def test_the_report_shows_both_answers_side_by_side_and_says_what_it_means(graded):
    """Does similarity.html say what was compared and that similarity is not evidence, and show both students'
    cells with line numbers and the shared lines highlighted; does the CSV hold the pair's score?"""
    result = main("xor", out=graded, course=ROOT)
    page = result.html.read_text(encoding="utf-8")
    assert "reason to look, not evidence" in page and "What was compared" in page
    assert 'id="q1-1"' in page and "copier" in page and "frozen-bias" in page
    assert '<tr class="hit"><td class="ln">' in page
    assert page.count("<mark>") >= 3
    rows = list(csv.DictReader(result.csv.open(encoding="utf-8")))
    q1 = [r for r in rows if r["question"] == "q1" and {r["student_a"], r["student_b"]} == {"copier", "frozen-bias"}]
    assert q1 and q1[0]["flagged"] == "yes" and float(q1[0]["score"]) >= 0.4


def test_template_and_reference_code_are_not_matches(layout):
    """Do two untouched notebooks, or two exact copies of the reference, share nothing that counts?"""
    untouched = cells_of(read_notebook(SAMPLES / "untouched.ipynb"))
    reference = cells_of(read_notebook(SAMPLES / "reference.ipynb"))
    works = [work("u1", untouched, layout), work("u2", untouched, layout),
             work("r1", reference, layout), work("r2", reference, layout)]
    assert compare(works, layout).flagged() == []


def test_code_goes_to_the_question_of_the_function_it_defines(layout):
    """When a student merges two answer cells, is each function still compared under its own question?"""
    cells = cells_of(read_notebook(SAMPLES / "reference.ipynb"))
    merged = _code_split_merge([dict(c) for c in cells], layout, None)
    w = work("m", merged, layout)
    sources = {q: "".join(w.cells[c.cell].splitlines()[c.first - 1] for c in chunks) for q, chunks in w.code.items()}
    assert "def decision_grid" in sources["q5"] and "def collapse_linear" in sources["q4"]


def test_no_results_is_one_clear_error(tmp_path):
    """Does a folder without results give a DlgradeError that says to grade first?"""
    with pytest.raises(DlgradeError, match="no results to compare") as info:
        main("xor", out=tmp_path, course=ROOT)
    assert "dlgrade grade" in info.value.hint


def test_results_without_code_ask_for_a_regrade(tmp_path):
    """Does a result written before the code was recorded give a one-line error with the fix?"""
    folder = tmp_path / "xor" / "results"
    folder.mkdir(parents=True)
    (folder / "a.json").write_text(json.dumps({"exercise": "xor", "status": "graded", "student_id": "a"}))
    with pytest.raises(DlgradeError, match="does not record the notebook's code") as info:
        main("xor", out=tmp_path, course=ROOT)
    assert "--regrade" in info.value.hint


def test_command_prints_the_flagged_pairs(graded):
    """Does `dlgrade similarity xor --out O` list the flagged pairs and where the report is?"""
    import dlgrade.cli.similarity  # noqa: F401 - registers the command
    from dlgrade.cli import app

    result = CliRunner().invoke(app, ["similarity", "xor", "--out", str(graded), "--course", str(ROOT)])
    assert result.exit_code == 0, result.output
    output = "".join(result.output.split())  # the console wraps long lines, anywhere in a path
    assert "q6(text):6pair(s)" in output and "q1(code):1pair(s):copier+frozen-bias" in output
    assert "notevidence" in output and "/xor/similarity.html" in output


def test_command_errors_are_one_line(tmp_path, monkeypatch, capsys):
    """Does the command end with status 2 and one error line (no traceback) when nothing was graded?"""
    from dlgrade import cli

    monkeypatch.setattr(sys, "argv", ["dlgrade", "similarity", "xor", "--out", str(tmp_path), "--course", str(ROOT)])
    with pytest.raises(SystemExit) as info:
        cli.main()
    err = " ".join(capsys.readouterr().err.split())
    assert info.value.code == 2
    assert "no results to compare" in err and "Traceback" not in err
