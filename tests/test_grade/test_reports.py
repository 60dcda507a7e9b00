"""Reports: the gradebook CSV, per-student feedback and the class summary."""
from __future__ import annotations

import csv
import io
import re

from dlgrade.grade.write_gradebook import FIXED, number, text


def test_gradebook_has_one_sorted_row_per_student_and_fixed_columns(grade, make_submission):
    """Is the gradebook sorted by student id, with the fixed columns, one column per question and no timings?"""
    paths = [make_submission(n) for n in ("zoe.ipynb", "adam.ipynb", "mia.ipynb")]
    summary = grade(paths)
    rows = list(csv.reader(io.StringIO(summary.gradebook.read_text())))
    assert rows[0] == FIXED + ["q1", "q2", "q3", "file"]
    assert [r[0] for r in rows[1:]] == ["adam", "mia", "zoe"]
    assert rows[1] == ["adam", "", "7", "7", "100", "graded", "q3", "2", "3", "2", "adam.ipynb"]


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


def test_reports_rebuilt_from_results_only_for_current_inputs(grade, make_submission):
    """Does a student who is no longer among the inputs drop out of gradebook and summary (old results stay unused)?"""
    a, b = make_submission("a.ipynb"), make_submission("b.ipynb")
    grade([a, b])
    summary = grade([a])
    assert [r.split(",")[0] for r in summary.gradebook.read_text().splitlines()[1:]] == ["a"]
    assert 'href="feedback/b.html"' not in summary.summary.read_text()
    assert [p.name for p in (summary.out / "feedback").glob("*.html")] == ["a.html"]
