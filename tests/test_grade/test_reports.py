"""Reports: the gradebook CSV, per-student feedback and the class summary."""
from __future__ import annotations

import csv
import io
import re

import numpy as np
import pytest

from dlgrade.grade.write_gradebook import EXTRA, FIXED, number, text


def test_gradebook_has_one_sorted_row_per_student_and_fixed_columns(grade, make_submission):
    """Is the gradebook sorted by student id, with the fixed columns, one column per question and no timings?"""
    paths = [make_submission(n) for n in ("zoe.ipynb", "adam.ipynb", "mia.ipynb")]
    summary = grade(paths)
    rows = list(csv.reader(io.StringIO(summary.gradebook.read_text())))
    assert rows[0] == FIXED + EXTRA + ["q1", "q2", "q3", "file"]
    assert [r[0] for r in rows[1:]] == ["adam", "mia", "zoe"]
    assert rows[1] == ["adam", "", "7", "7", "100", "graded", "q3", "7", "0", "", "2", "3", "2", "adam.ipynb"]


def test_numbers_and_formula_cells_are_written_safely():
    """Are numbers written without float noise and text that a spreadsheet would evaluate defused?"""
    assert [number(x) for x in (2.0, 3.5, 1 / 3, 0.0, None)] == ["2", "3.5", "0.3333", "0", ""]
    assert text("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")" and text("alice") == "alice"


def test_feedback_shows_failures_hints_review_and_plots(grade, make_submission):
    """Does the feedback page say what failed and why, give the hint, flag review and embed the student's plot?"""
    path = make_submission("eve.ipynb", predict="def predict(X):\n    return (X[:, 0] > 0).astype(int)",
                           extra=["import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
                                  "plt.figure(figsize=(1, 1)); plt.plot([1, 2])"])
    summary = grade([path])
    page = (summary.out / "feedback" / "eve.html").read_text()
    assert "accuracy on held-out points" in page and "needs &gt;= 0.9" in page
    assert "hint: class 1 is where x0 &gt; x1" in page
    assert "An instructor will review this answer" in page
    assert page.count("data:image/png;base64,") == 1
    assert "5 / 7 points" in page


def test_student_content_is_escaped(grade, make_submission):
    """Is HTML in a student's id, answers and error messages shown as text, never run, in feedback and summary?"""
    evil = "<script>alert(1)</script>"
    path = make_submission("mallory.ipynb", metadata={"student_id": f"<b>{evil}</b>"},
                           answer=f"{evil} overfitting on unseen data",
                           add=f"def add(a, b):\n    raise ValueError('{evil}')")
    summary = grade([path])
    pages = [p.read_text() for p in (summary.out / "feedback").glob("*.html")] + [summary.summary.read_text()]
    assert len(pages) == 2
    for page in pages:
        assert "<script>" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[0]
    assert "&lt;script&gt;" in pages[1]


def test_summary_has_histogram_pass_rates_failures_and_review(grade, course):
    """Does the class summary have the score histogram, per-question rates, common failures and the review list?"""
    summary = grade([course / "autograder" / "tiny" / "samples"])
    page = summary.summary.read_text()
    assert 'alt="histogram of scores"' in page and 'alt="share of full marks per question"' in page
    section = page.split("<h2>Most common failures</h2>")[1].split("<h2>")[0]
    assert "not implemented yet" in section and "accuracy on held-out points" in section
    review = page.split("<h2>To review</h2>")[1].split("<h2>")[0]
    assert re.findall(r'href="feedback/(\w+)\.html"', review) == ["good", "partial"]
    assert "overfitting" in review  # the answer itself is shown to the reviewer
    assert sorted(summary.needs_review) == ["good", "partial"]
    assert "Unsandboxed: 3 of 3 submission(s) ran without a sandbox" in page  # the stand-in worker isolates nothing
    assert "isolation: none: in-process test stand-in (3 submissions)" in page


def test_reports_describe_the_whole_class_after_grading_one_student(grade, make_submission):
    """Grading 3 students, then `--only` one (and then a call given one file): do gradebook, feedback and
    summary still hold all 3, with only the chosen student graded again?"""
    paths = [make_submission(f"{n}.ipynb") for n in ("a", "b", "c")]
    grade(paths)
    again = make_submission("b.ipynb", predict="def predict(X):\n    return (X[:, 0] > 0).astype(int)")
    summary = grade(paths, only=("b",))
    assert summary.graded == 1 and summary.students == 3
    rows = list(csv.DictReader(io.StringIO(summary.gradebook.read_text())))
    assert [(r["student_id"], r["score"]) for r in rows] == [("a", "7"), ("b", "5"), ("c", "7")]
    assert sorted(p.name for p in (summary.out / "feedback").glob("*.html")) == ["a.html", "b.html", "c.html"]
    page = summary.summary.read_text()
    assert "3 students" in page and all(f'href="feedback/{n}.html"' in page for n in "abc")
    summary = grade([again], regrade=True)
    assert summary.graded == 1 and summary.students == 3
    assert len(summary.gradebook.read_text().splitlines()) == 4


def test_only_an_unknown_student_is_one_clear_error(grade, make_submission):
    """Does `--only` with an id that is not among the inputs stop with an error naming it?"""
    from dlgrade.errors import DlgradeError

    with pytest.raises(DlgradeError, match="--only nobody"):
        grade([make_submission("a.ipynb")], only=("nobody",))


def _record(**fields) -> dict:
    base = {"student_id": "s1", "name": "", "file": "s1.ipynb", "profile": "quick", "grader": "g", "exercise": "ex",
            "score": 1.5, "max_points": 4, "percent": 37.5, "needs_review": ["q6"], "problem": None, "messages": [],
            "cells": [], "figures": [], "answers": {"q6": "Digits share strokes."},
            "questions": [{"id": "q6", "title": "Why?", "points": 2, "earned": 0.5, "needs_review": True,
                           "error": None, "figures": [],
                           "checks": [{"message": "the answer makes the rubric's points", "points": 0.5,
                                       "passed": True, "hint": "", "detail": "found: shapes; missing: writers"}]},
                          {"id": "q1", "title": "Fit", "points": 2, "earned": 1, "needs_review": False,
                           "error": None, "figures": [],
                           "checks": [{"message": "runs", "points": 1, "passed": True, "hint": "", "detail": ""},
                                      {"message": "accurate", "points": 1, "passed": False, "hint": "train longer",
                                       "detail": ""}]}]}
    return base | fields


def test_feedback_shows_the_answer_labels_costs_and_partial_credit_in_amber(tmp_path):
    """Does the feedback show the student's own answer, rubric labels (not ids), what each failed check cost,
    and partial credit in amber rather than green?"""
    from dlgrade.grade.write_feedback import feedback_html

    labels = {"q6": {"shapes": "the digits share strokes", "writers": "people write digits differently"}}
    page = feedback_html(_record(), title="T", out=tmp_path, labels=labels)
    q6 = page.split("q6: Why?")[1].split("q1: Fit")[0]
    assert "Your answer" in q6 and "Digits share strokes." in q6
    assert "the digits share strokes" in q6 and "people write digits differently" in q6 and "writers" not in q6
    assert 'class="partial">0.5 / 2 points' in q6 and 'class="partial">partly' in q6 and 'class="pass"' not in q6
    q1 = page.split("q1: Fit")[1]
    assert 'class="partial">1 / 2 points' in q1 and "&minus;1" in q1 and "hint: train longer" in q1


def test_a_figure_a_test_drew_is_kept_and_shown_under_its_question(tmp_path):
    """Is a PNG a hidden test attached with `t.figure` stored with the results and shown, with its caption,
    under its question in the feedback (anything that is not a PNG is dropped)?"""
    from dlgrade.grade.collect_figures import collect_figures
    from dlgrade.grade.job import Job, SubmissionFile
    from dlgrade.grade.write_feedback import feedback_html
    from dlgrade.harness.draw_figure import heatmap_png
    from dlgrade.harness.questions import QuestionResult

    png = heatmap_png([[3, 1], [0, 4]], xticks=["a", "b"], yticks=["a", "b"], xlabel="Predicted", ylabel="True")
    assert png.startswith(b"\x89PNG")
    job = Job(SubmissionFile(tmp_path / "s1.ipynb", "s1.ipynb", "s1", "file name", "0" * 64, result_name="s1"))
    job.results = [QuestionResult("q6", "Why?", 2, 0.5, (), figures=(("your heatmap", png), ("evil", b"<svg>")))]
    collect_figures(job, type("G", (), {"out": tmp_path})(), None)
    assert job.question_figures == {"q6": [{"caption": "your heatmap", "path": "figures/s1/q6-1.png"}]}
    record = _record()
    record["questions"][0]["figures"] = job.question_figures["q6"]
    page = feedback_html(record, title="T", out=tmp_path)
    q6 = page.split("q6: Why?")[1].split("q1: Fit")[0]
    assert q6.count("data:image/png;base64,") == 1 and "<figcaption>your heatmap</figcaption>" in q6


def test_heatmap_shades_each_cell_by_its_value():
    """Does the redrawn heatmap paint the largest cell in the darkest blue and the smallest in the lightest,
    over whole cells, and refuse a grid that is not 2-D?"""
    import io

    from PIL import Image

    from dlgrade.harness.draw_figure import BLUES, heatmap_png

    png = heatmap_png([[0, 9], [3, 0]], xticks=["a", "b"], yticks=["a", "b"], xlabel="Predicted", ylabel="True")
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).reshape(-1, 3)
    counts = {colour: int((pixels == colour).all(axis=1).sum()) for colour in (BLUES[0], BLUES[-1])}
    assert counts[BLUES[-1]] > 400 and counts[BLUES[0]] > 2 * 400, counts     # one dark cell, two light ones
    with pytest.raises(ValueError):
        heatmap_png([1, 2, 3])


@pytest.mark.slow
def test_confusion_reference_feedback_shows_its_heatmap(tmp_path):
    """Does grading the confusion reference solution put its plot_confusion_matrix heatmap on its feedback page?"""
    from pathlib import Path

    from fake_worker import FakeWorker

    from dlgrade.grade import main

    root = Path(__file__).resolve().parents[2]
    summary = main([root / "solutions" / "confusion" / "confusion.ipynb"], exercise="confusion", course=root,
                   out=tmp_path, progress=False, workers=1, worker_factory=FakeWorker)
    page = next((summary.out / "feedback").glob("*.html")).read_text()
    q5 = page.split("q5: ")[1].split("<h3>")[0]
    assert "data:image/png;base64," in q5 and "redrawn from what it shows" in q5
