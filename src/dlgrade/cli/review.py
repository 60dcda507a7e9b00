"""`dlgrade review`: review the flagged answers in a local web page, or through a CSV."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from dlgrade.cli import app, console


@app.command("review")
def review(
    exercise: str = typer.Argument(..., help="Exercise id."),
    out: Optional[Path] = typer.Option(None, help="Output folder grade wrote to (default: dlgrade-out)."),
    profile: Optional[str] = typer.Option(None, help="quick or full (default: quick)."),
    course: Optional[Path] = typer.Option(None, help="Course folder."),
    port: Optional[int] = typer.Option(None, help="Port on 127.0.0.1 (default: a free one)."),
    reviewer: Optional[str] = typer.Option(None, help="Your name in the reviews (default: your user name)."),
    no_browser: bool = typer.Option(False, "--no-browser", help="Print the URL, do not open a browser."),
    export: Optional[Path] = typer.Option(None, "--export", help="Write the items to review to this CSV and exit."),
    import_: Optional[Path] = typer.Option(None, "--import", help="Read reviews from this CSV and exit."),
) -> None:
    """Walk through the answers the grader flagged and set their points; the gradebook uses them."""
    import dlgrade.review as stage

    given = {k: v for k, v in {"out": out, "profile": profile, "course": course}.items() if v is not None}
    if export is not None:
        n = stage.export_reviews(exercise, export, **given)
        console.print(f"{n} item(s) to review written to {export}", highlight=False)
        return
    if import_ is not None:
        result = stage.import_reviews(exercise, import_, reviewer=reviewer, **given)
        console.print(result.describe(), highlight=False)
        if result.rejected:
            raise typer.Exit(1)
        return
    options = given | {k: v for k, v in {"port": port, "reviewer": reviewer}.items() if v is not None}
    try:
        stage.main(exercise, open_browser=not no_browser,
                   on_ready=lambda url: console.print(f"review at {url}\n(Ctrl-C to stop)", highlight=False),
                   **options)
    except KeyboardInterrupt:
        console.print("stopped")
