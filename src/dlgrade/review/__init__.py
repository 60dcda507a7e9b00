"""``dlgrade review``: an instructor reviews the answers the grader flagged, and overrides their points.

Entry point: :func:`main` serves a local web page (:mod:`.server`) that walks
through the flagged items one at a time; :func:`export_reviews` and
:func:`import_reviews` do the same through a CSV (:mod:`.csv_io`). Reviews are
kept in ``<out>/<exercise>/reviews.jsonl`` (:mod:`.store`); the grader never
writes that file, and the reports (gradebook, feedback, summary) use the
reviewed points.
"""
from __future__ import annotations

import getpass
import logging
import webbrowser
from pathlib import Path
from typing import Callable

from dlgrade.errors import DlgradeError

log = logging.getLogger(__name__)
__all__ = ["main", "export_reviews", "import_reviews"]


def _grading(exercise: str, *, out: Path, profile: str, course):
    from dlgrade.grade.write_reports import reporting

    grading = reporting(exercise, out=out, profile=profile, course=course)
    if not (grading.out / "journal.jsonl").is_file():
        raise DlgradeError(f"{grading.out}: nothing graded yet for {exercise} (no journal.jsonl)",
                           hint=f"grade first: dlgrade grade SUBMISSIONS -e {exercise} --out {out}")
    return grading


def default_reviewer() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "instructor"


def main(exercise: str, *, out: Path = Path("dlgrade-out"), profile: str = "quick", course=None,
         port: int = 0, reviewer: str | None = None, open_browser: bool = True,
         on_ready: Callable[[str], None] | None = None) -> None:
    """Serve the review page for ``exercise``'s results in ``out`` until interrupted.

    ``on_ready(url)`` is called once the server listens (the URL holds the token).
    """
    from dlgrade.review.server import ReviewApp, make_server, url_of

    app = ReviewApp(_grading(exercise, out=out, profile=profile, course=course),
                    reviewer=reviewer or default_reviewer())
    server = make_server(app, port=port)
    url = url_of(server, app)
    if on_ready is not None:
        on_ready(url)
    if open_browser:
        webbrowser.open(url)
    try:
        server.serve_forever()
    finally:
        server.server_close()


def export_reviews(exercise: str, path: Path, *, out: Path = Path("dlgrade-out"), profile: str = "quick",
                   course=None) -> int:
    """Write the items to review (and the reviews so far) to the CSV ``path``; returns the number of rows."""
    from dlgrade.review.csv_io import export_csv
    from dlgrade.review.items import load_items

    items = load_items(_grading(exercise, out=out, profile=profile, course=course)).items
    export_csv(items, Path(path))
    return len(items)


def import_reviews(exercise: str, path: Path, *, out: Path = Path("dlgrade-out"), profile: str = "quick",
                   course=None, reviewer: str | None = None):
    """Read reviews from the CSV ``path``, append the valid new ones and rebuild the reports;
    returns :class:`dlgrade.review.csv_io.Imported` (``rejected`` lists each refused row).

    A row may set the points of any graded question of any student, flagged or not (a regrade
    request): ``student_id``, ``question`` and ``score`` are enough."""
    from dlgrade.grade.load_submissions import Found
    from dlgrade.grade.write_reports import write_reports
    from dlgrade.review.csv_io import import_csv
    from dlgrade.review.items import load_items

    grading = _grading(exercise, out=out, profile=profile, course=course)
    result = import_csv(Path(path), load_items(grading, every=True).items, grading.out,
                        reviewer=reviewer or default_reviewer())
    if result.added:
        write_reports(grading, Found((), {}, ()))
    return result
