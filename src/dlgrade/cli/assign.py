"""`dlgrade assign`: build the student notebooks from the reference solutions."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from dlgrade.cli import app, console


@app.command("assign")
def assign(
    exercises: Optional[list[str]] = typer.Argument(None, help="Exercises to build (default: all)."),
    course: Optional[Path] = typer.Option(None, help="Course folder (default: found from the current directory)."),
    check: bool = typer.Option(False, "--check", help="Only verify the committed notebooks are current."),
) -> None:
    """Build assignments/<ex>/ notebooks from solutions/<ex>/ (stubs, no outputs, no solutions)."""
    from dlgrade.assign import main

    changed = main(exercises, course=course, check=check)
    if check:
        console.print("student notebooks are up to date")
    for path in changed:
        console.print(f"wrote {path}")
    if not changed and not check:
        console.print("student notebooks already up to date")
