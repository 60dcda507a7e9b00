"""`dlgrade similarity`: similar code and written answers across a graded batch."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from dlgrade.cli import app, console


@app.command("similarity")
def similarity(
    exercise: str = typer.Argument(..., help="Exercise id."),
    out: Optional[Path] = typer.Option(None, help="The output folder given to `dlgrade grade` (default: dlgrade-out)."),
    course: Optional[Path] = typer.Option(None, help="Course folder."),
    code_threshold: Optional[float] = typer.Option(None, help="Share of the smaller answer's code fingerprints "
                                                   "that flags a pair (default: 0.4)."),
    text_threshold: Optional[float] = typer.Option(None, help="The same for written answers (default: 0.4)."),
) -> None:
    """Compare graded submissions question by question; writes similarity.html and similarity.csv."""
    from dlgrade.similarity import main

    given = {"out": out, "course": course, "code_threshold": code_threshold, "text_threshold": text_threshold}
    result = main(exercise, **{k: v for k, v in given.items() if v is not None})
    console.print(result.describe(), highlight=False)
