"""`dlgrade export-grades`: final grades as a Canvas or Moodle import file, or the plain CSV."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from dlgrade.cli import app, console


@app.command("export-grades")
def export_grades(
    exercise: str = typer.Argument(..., help="Exercise id."),
    out: Optional[Path] = typer.Option(None, help="Output folder grade wrote to (default: dlgrade-out)."),
    format: Optional[str] = typer.Option(None, "--format", help="canvas, moodle or csv (default: canvas)."),
    roster: Optional[Path] = typer.Option(None, help="Roster CSV (a Canvas gradebook export, or student_id plus "
                                                     "sis_user_id / username / email / idnumber columns)."),
    dest: Optional[Path] = typer.Option(None, help="File to write (default: OUT/EX/grades-FORMAT.csv)."),
    assignment_id: Optional[str] = typer.Option(None, help="Canvas assignment id (the column becomes 'Title (id)')."),
    title: Optional[str] = typer.Option(None, help="Assignment title (default: the exercise's title)."),
    profile: Optional[str] = typer.Option(None, help="quick or full (default: quick)."),
    course: Optional[Path] = typer.Option(None, help="Course folder."),
) -> None:
    """Write the exercise's final grades (reviews and late penalties applied) for an LMS to import."""
    from dlgrade.export_grades import main

    given = {"out": out, "format": format, "roster": roster, "dest": dest, "assignment_id": assignment_id,
             "title": title, "profile": profile, "course": course}
    result = main(exercise, **{k: v for k, v in given.items() if v is not None})
    console.print(result.describe(), highlight=False)
