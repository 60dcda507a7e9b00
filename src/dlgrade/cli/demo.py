"""`dlgrade demo`: the main job on the embedded data."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from dlgrade.cli import app, console


@app.command("demo")
def demo(
    out: Path = typer.Option(Path("dlgrade-demo"), help="Output folder."),
    exercise: Optional[list[str]] = typer.Option(None, "-e", "--exercise", help="Only these exercises."),
    workers: Optional[int] = typer.Option(None, help="Parallel sandboxed workers (default: from cores)."),
) -> None:
    """Grade the bundled sample submissions of every exercise (quick profile, embedded data, offline)."""
    from rich.table import Table

    from dlgrade.demo import main

    outcomes, summaries = main(out=out, exercises=exercise, workers=workers,
                               report=lambda s: console.print(s.describe(), highlight=False))
    table = Table("exercise", "sample", "score", "expected", "")
    for o in outcomes:
        table.add_row(o.exercise, o.sample, f"{o.score:g} / {o.max_points:g}",
                      f"{o.expected_min:g} - {o.expected_max:g}", "[green]ok[/]" if o.ok else "[red]OFF[/]")
    console.print(table)
    console.print(f"gradebooks, feedback and summaries: {out.resolve()}/<exercise>/")
    if not all(o.ok for o in outcomes):
        console.print("[red]some samples scored outside their expected range[/]")
        raise typer.Exit(1)
