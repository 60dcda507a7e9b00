"""`dlgrade grade`: grade a batch of notebooks (files, folders or an LMS zip)."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from dlgrade.cli import app, console
from dlgrade.errors import DlgradeError


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
    sandbox: Optional[str] = typer.Option(
        None, help="bwrap (default: the bubblewrap sandbox, required) or none (UNSAFE: student code runs with "
                   "your rights; the results say UNSANDBOXED)."),
    only: Optional[List[str]] = typer.Option(None, "--only", help="Grade again only this student id (repeatable)."),
    submitted_at: Optional[Path] = typer.Option(None, "--submitted-at",
                                                help="CSV of student ids and submitted_at times (late policy)."),
    cluster: Optional[str] = typer.Option(None, help="Dask scheduler address (tcp://host:8786) or local:N."),
    resources: Optional[str] = typer.Option(None, help="Dask worker resources per submission, e.g. GPU=1."),
) -> None:
    """Grade notebooks with the exercise's hidden tests; writes JSONs, a gradebook CSV and HTML reports."""
    from dlgrade.grade import main

    given = {"profile": profile, "workers": workers, "out": out, "course": course, "device": device,
             "gpu_jobs": gpu_jobs, "sandbox": sandbox, "only": tuple(only) if only else None,
             "submitted_at": submitted_at,
             "cluster": cluster, "resources": parse_resources(resources) if resources else None}
    summary = main(paths, exercise=exercise, regrade=regrade, progress=console.is_terminal,
                   **{k: v for k, v in given.items() if v is not None})
    console.print(summary.describe(), highlight=False)


def parse_resources(text: str) -> dict:
    """``GPU=1,MEM=8e9`` -> ``{"GPU": 1.0, "MEM": 8e9}`` (Dask's own resource syntax)."""
    out = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, value = part.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise DlgradeError(f"--resources {text!r}: {part!r} is not NAME=NUMBER", hint="e.g. --resources GPU=1") \
                from None
        if not name.strip():
            raise DlgradeError(f"--resources {text!r}: a resource has no name", hint="e.g. --resources GPU=1")
    return out
