"""``dlgrade data``: where the datasets come from, and downloading them."""
from __future__ import annotations

from pathlib import Path

import typer

from dlgrade.cli import app

data_app = typer.Typer(help="Show where each dataset comes from; download datasets.",
                       no_args_is_help=True)
app.add_typer(data_app, name="data")

DATA_DIR = typer.Option(None, "--data-dir", help="Your own copy of the data (default: $DLGRADE_DATA).")
DATA_HOME = typer.Option(None, "--data-home",
                         help="Downloads and caches (default: $DLGRADE_DATA_HOME, else ~/dlgrade_data).")
NAMES = typer.Argument(None, help="Datasets to download (default: all that can be downloaded).")


@data_app.command("info")
def info(data_dir: Path | None = DATA_DIR, data_home: Path | None = DATA_HOME) -> None:
    """List, per dataset, the sources that hold it now and the one used by default."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from dlgrade.data import describe_sources, get_data_dir, get_data_home

    console = Console()
    console.print(Text(f"data home: {get_data_home(data_home)}"), soft_wrap=True)
    chosen = get_data_dir(data_dir)
    missing = "" if chosen is None or chosen.is_dir() else (
        " (not a folder: nothing is read from it)" if chosen.exists() else " (does not exist: nothing is read from it)")
    console.print(Text(f"data directory: {chosen or 'none (set --data-dir or DLGRADE_DATA)'}{missing}",
                       style="bold red" if missing else ""), soft_wrap=True)
    table = Table()
    for column in ("dataset", "available", "used by default", "from"):
        table.add_column(column, overflow="fold")
    for row in describe_sources(data_dir=data_dir, data_home=data_home):
        used = Text(row.auto, style="bold red" if row.auto in ("error", "stand-in") else "")
        table.add_row(row.name, ", ".join(source for source, _ in row.available), used, Text(row.location))
    console.print(table)


@data_app.command("fetch")
def fetch(names: list[str] | None = NAMES, data_home: Path | None = DATA_HOME) -> None:
    """Download datasets into the data home with torchvision."""
    from dlgrade.data import fetch as fetch_data

    for location in fetch_data(names, data_home=data_home):
        typer.echo(f"ready: {location}")
