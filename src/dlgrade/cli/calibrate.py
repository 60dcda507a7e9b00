"""`dlgrade calibrate`: thresholds from seeded runs of the reference solution."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from dlgrade.cli import app, console


@app.command("calibrate")
def calibrate(
    exercise: str = typer.Argument(..., help="Exercise id."),
    profile: str = typer.Option("quick", help="quick or full."),
    seeds: int = typer.Option(5, help="Seeded reference runs."),
    k: float = typer.Option(3.0, help="Pass mark = mean - k*std - margin."),
    margin: Optional[float] = typer.Option(None, help="Extra margin (default: the profile's calibration_margin or 0.02)."),
    course: Optional[Path] = typer.Option(None, help="Course folder."),
    check: bool = typer.Option(False, "--check", help="Verify: reference gets full marks, template gets 0."),
) -> None:
    """Write autograder/<ex>/thresholds/<profile>.yaml from the reference solution (or --check it)."""
    from rich.table import Table

    from dlgrade.calibrate import main

    result = main(exercise, profile=profile, seeds=seeds, k=k, margin=margin, course=course, check=check,
                  progress=lambda i, n: console.print(f"run {i}/{n} done", style="dim"))
    if check:
        for seed, (earned, total) in enumerate(result.reference):
            console.print(f"reference, seed {seed}: {earned:g}/{total:g}")
        console.print(f"untouched notebook: {result.untouched[0]:g}/{result.untouched[1]:g}")
        if result.shared_draws:
            console.print("warning: the hidden tests draw from torch's process-wide generator outside "
                          "dlgrade.train.seeded, which another grading thread's dropout training also draws "
                          "from (--workers): build their torch objects under seeded(...)", style="yellow",
                          markup=False, highlight=False)
            for where in result.shared_draws:
                console.print(f"  {where}", markup=False, highlight=False, soft_wrap=True)
        console.print("OK" if result.ok else "FAILED: the reference must score full marks and the template 0")
        raise typer.Exit(0 if result.ok else 1)
    table = Table("measurement", "bound", "mean", "std", "n", "pass mark")
    for c in result:
        table.add_row(c.name, c.bound, f"{c.mean:.4f}", f"{c.std:.4f}", str(len(c.values)), f"{c.value:.4f}")
    console.print(table)
