"""`dlgrade check`: students' self-check of a notebook."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from dlgrade.cli import app


@app.command("check")
def check(
    notebook: Path = typer.Argument(..., help="The notebook to check."),
    question: Optional[list[str]] = typer.Option(None, "-q", "--question", help="Only these questions."),
    exercise: Optional[str] = typer.Option(None, help="Exercise id (default: from the notebook)."),
    time_limit: Optional[float] = typer.Option(None, "--time-limit", min=1,
                                               help="Seconds the notebook may run (default: as graded)."),
) -> None:
    """Run the notebook and its public self-checks; exit 0 only when all pass."""
    from dlgrade.check import main

    options = {k: v for k, v in {"time_limit": time_limit}.items() if v is not None}
    report = main(notebook, questions=question, exercise=exercise, **options)
    typer.echo(str(report))
    raise typer.Exit(0 if report.passed else 1)
