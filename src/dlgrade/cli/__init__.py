"""The ``dlgrade`` command: thin wrappers around each stage's Python entry point.

Each command group lives in its own module (``cli/data.py``, ``cli/quiz.py``,
...) and registers itself on :data:`app`. Defaults live in the stage functions,
not here. Known errors (:class:`dlgrade.errors.DlgradeError`) and errors of the
file system (a folder that cannot be written, a full disk) print one line and
a hint; only ``-vv`` shows a traceback. Ctrl-C prints a line and exits with 130.
"""
from __future__ import annotations

import errno
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

    for name in ("demo", "data", "assign", "check", "grade", "calibrate", "quiz", "export", "similarity",
                 "review", "export_grades"):
        try:
            importlib.import_module(f"dlgrade.cli.{name}")
        except ModuleNotFoundError as exc:  # a command group not written yet
            if exc.name != f"dlgrade.cli.{name}":
                raise


def main() -> None:
    """Console-script entry point."""
    try:
        _register()
        app()
    except DlgradeError as exc:
        _fail(exc, str(exc), exc.hint)
    except OSError as exc:  # a folder that cannot be written, a full disk: one line, with what to do
        _fail(exc, *describe_os_error(exc))
    except KeyboardInterrupt:
        _interrupted()
    except SystemExit as exc:
        # typer turns Ctrl-C into a silent exit with status 130
        if exc.code == 130 and _caused_by_interrupt(exc):
            _interrupted()
        raise


def _fail(exc: BaseException, message: str, hint: str | None) -> None:
    if _state["verbose"] >= 2:
        raise exc
    console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    if hint:
        console.print(f"hint: {escape(hint)}", highlight=False, soft_wrap=True)
    console.print("(rerun with -vv for details)", style="dim")
    sys.exit(2)


def _interrupted() -> None:
    console.print("interrupted (Ctrl-C); what was finished is kept: rerun the same command to go on", highlight=False)
    sys.exit(130)


def _caused_by_interrupt(exc: BaseException) -> bool:
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


_OS_HINTS = {
    errno.EACCES: "choose a folder you can write to (e.g. --out), or change its permissions",
    errno.EPERM: "choose a folder you can write to (e.g. --out), or change its permissions",
    errno.EROFS: "the file system is read-only: choose a folder on a writable disk (e.g. --out)",
    errno.ENOTDIR: "a part of this path is a file, not a folder: choose another path (e.g. --out)",
    errno.EEXIST: "a file of that name is in the way: choose another path (e.g. --out) or move the file",
    errno.EISDIR: "this is a folder where a file was expected: choose another path",
    errno.ENOENT: "a folder along this path does not exist and cannot be made here: choose another path",
    errno.ENOSPC: "the disk is full: free some space or choose a folder on another disk (e.g. --out)",
    errno.EDQUOT: "the disk quota is used up: free some space or choose another folder (e.g. --out)",
}


def describe_os_error(exc: OSError) -> tuple[str, str | None]:
    """One line for an operating-system error on a file or folder, and what to do about it."""
    what = exc.strerror or type(exc).__name__
    where = exc.filename if exc.filename is not None else ""
    if isinstance(where, bytes):
        where = where.decode("utf-8", "replace")
    where = str(where).encode("utf-8", "replace").decode("utf-8")
    message = f"cannot use {where}: {what}" if where else f"{what} ({exc})"
    return message, _OS_HINTS.get(exc.errno)
