"""Fixtures for the review tests: a graded tiny class (the grading tests' course, builders and stand-in worker)."""
from __future__ import annotations

import shutil
import sys
import threading
from pathlib import Path

import pytest

GRADE_TESTS = Path(__file__).resolve().parents[1] / "test_grade"
sys.path.insert(0, str(GRADE_TESTS))

from builders import copy_course, grader, template_of, write_submission  # noqa: E402

UNSURE = "Overfitting."
"""A short answer that earns credit but is shorter than the rubric's min_words: flagged for review."""


@pytest.fixture(scope="session")
def graded_once(tmp_path_factory) -> Path:
    """A folder with course/, submissions/ and out/: a class of three graded once with the stand-in worker."""
    base = tmp_path_factory.mktemp("class")
    course = copy_course(base / "course")
    subs = base / "submissions"
    paths = [write_submission(template_of(course), subs / "ann.ipynb", answer=UNSURE),
             write_submission(template_of(course), subs / "bob.ipynb", answer="It shows overfitting."),
             write_submission(template_of(course), subs / "cy.ipynb", answer="")]
    grader(course, base / "out")(paths)
    return base


@pytest.fixture()
def graded(graded_once, tmp_path):
    """A fresh copy of the graded class: (course, out, grade, paths); ann and bob are flagged on q3, cy's
    empty answer is not."""
    base = Path(shutil.copytree(graded_once, tmp_path / "class"))
    paths = [base / "submissions" / f"{n}.ipynb" for n in ("ann", "bob", "cy")]
    return base / "course", base / "out", grader(base / "course", base / "out"), paths


@pytest.fixture()
def review_app(graded):
    """A running review server over the graded class: (app, base URL with token, graded)."""
    from dlgrade.grade.write_reports import reporting
    from dlgrade.review.server import ReviewApp, make_server, url_of

    course, out, _, _ = graded
    app = ReviewApp(reporting("tiny", out=out, course=course), reviewer="ana")
    server = make_server(app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, url_of(server, app), graded
    server.shutdown()
    server.server_close()
