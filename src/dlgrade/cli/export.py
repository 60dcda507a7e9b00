"""`dlgrade export`: an exercise for nbgrader, otter-grader or Gradescope."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from dlgrade.cli import app, console


@app.command("export")
def export(
    format: str = typer.Argument(..., help="nbgrader, otter or gradescope."),
    exercise: str = typer.Argument(..., help="The exercise to export, e.g. xor."),
    out: Optional[Path] = typer.Option(None, "--out", "--course",
                                       help="nbgrader: the course folder; otter: the output folder; "
                                            "gradescope: the zip file."),
    profile: Optional[str] = typer.Option(None, help="Grading profile (default: quick)."),
    package: Optional[str] = typer.Option(None, help="otter/gradescope: pip requirement or wheel that "
                                                     "installs dlgrade in the grading image."),
    course: Optional[Path] = typer.Option(None, "--from", help="dlgrade course folder (default: found "
                                                               "from the current directory)."),
) -> None:
    """Write EXERCISE for FORMAT, graded by its hidden tests (see docs/platforms.md)."""
    from dlgrade.export import main

    if out is None:
        out = Path(f"{exercise}-gradescope.zip") if format == "gradescope" else Path(f"{format}-course")
    options = {k: v for k, v in {"profile": profile, "package": package, "course": course}.items() if v is not None}
    for path in main(exercise, format=format, out=out, **options):
        console.print(f"wrote {path}")
