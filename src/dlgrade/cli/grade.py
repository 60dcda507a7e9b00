"""`dlgrade grade`: grade a batch of notebooks (files, folders or an LMS zip)."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from dlgrade.cli import app, console


@app.command("grade")
def grade(
    paths: List[Path] = typer.Argument(..., help=".ipynb files, folders of them, or an LMS zip."),
    exercise: str = typer.Option(..., "--exercise", "-e", help="Exercise id."),
    profile: Optional[str] = typer.Option(None, help="quick or full (default: quick)."),
    workers: Optional[int] = typer.Option(None, help="Parallel workers (default: from cores and GPUs)."),
    out: Optional[Path] = typer.Option(None, help="Output folder (default: dlgrade-out)."),
    regrade: bool = typer.Option(False, "--regrade", help="Grade again what the journal says is done."),
    course: Optional[Path] = typer.Option(None, help="Course folder."),
    device: Optional[str] = typer.Option(None, help="auto, cpu, cuda (default: auto)."),
    gpu_jobs: Optional[int] = typer.Option(None, help="Submissions at a time per GPU (default: 1)."),
    sandbox: Optional[str] = typer.Option(None, help="auto, bwrap (required) or none (default: auto)."),
) -> None:
    """Grade notebooks with the exercise's hidden tests; writes JSONs, a gradebook CSV and HTML reports."""
    from dlgrade.grade import main

    given = {"profile": profile, "workers": workers, "out": out, "course": course, "device": device,
             "gpu_jobs": gpu_jobs, "sandbox": sandbox}
    summary = main(paths, exercise=exercise, regrade=regrade, progress=console.is_terminal,
                   **{k: v for k, v in given.items() if v is not None})
    console.print(summary.describe(), highlight=False)
