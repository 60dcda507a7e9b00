"""The ``dlgrade`` command: thin wrappers around each stage's Python entry point.

Each command group lives in its own module (``cli/data.py``, ``cli/quiz.py``,
...) and registers itself on :data:`app`. Defaults live in the stage functions,
not here. Known errors (:class:`dlgrade.errors.DlgradeError`) print one line and
a hint to rerun with ``-v``; only ``-vv`` shows a traceback.
"""
from __future__ import annotations

import logging
import sys

import typer
from rich.console import Console
from rich.markup import escape

from dlgrade.errors import DlgradeError

console = Console(stderr=True)
app = typer.Typer(
    name="dlgrade",
    help="Auto-graded deep-learning exercises, hidden tests and quizzes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_state = {"verbose": 0}


@app.callback()
def _main(
    verbose: int = typer.Option(0, "--verbose", "-v", count=True,
                                help="More output; -vv shows tracebacks."),
) -> None:
    _state["verbose"] = verbose
    level = logging.INFO if verbose == 0 else logging.DEBUG
    from rich.logging import RichHandler

    logging.basicConfig(level=logging.WARNING, format="%(message)s",
                        handlers=[RichHandler(console=console, show_path=False, show_time=False)])
    logging.getLogger("dlgrade").setLevel(level)


def verbosity() -> int:
    return _state["verbose"]


def _register() -> None:
    # Importing the command modules registers their commands on `app`.
    import importlib

    for name in ("demo", "data", "assign", "check", "grade", "calibrate", "quiz"):
        try:
            importlib.import_module(f"dlgrade.cli.{name}")
        except ModuleNotFoundError as exc:  # a command group not written yet
            if exc.name != f"dlgrade.cli.{name}":
                raise


def main() -> None:
    """Console-script entry point."""
    _register()
    try:
        app()
    except DlgradeError as exc:
        if _state["verbose"] >= 2:
            raise
        console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        if exc.hint:
            console.print(f"hint: {escape(exc.hint)}", highlight=False)
        console.print("(rerun with -vv for details)", style="dim")
        sys.exit(2)
    except KeyboardInterrupt:
        console.print("interrupted")
        sys.exit(130)
