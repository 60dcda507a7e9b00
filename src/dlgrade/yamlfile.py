"""Reading the course's YAML files with errors that name the file and the line."""
from __future__ import annotations

import copy
from pathlib import Path

from dlgrade.errors import SpecError

_PARSED: dict = {}
"""Parsed files by (path, modification time, size): a batch reads the same rubric and thresholds for
every submission. A file that changes gets a new key; callers get their own copy."""


def load_yaml(path: str | Path, *, what: str = "file"):
    """The parsed content of ``path``; SpecError naming the file (and the line) when it is
    missing or is not valid YAML. ``what`` names the file in the not-found message."""
    import yaml

    path = Path(path)
    try:
        stat = path.stat()
        key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
        if key not in _PARSED:
            text = path.read_text(encoding="utf-8")
            loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)       # libyaml's, when it is there
            _PARSED[key] = yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
        return copy.deepcopy(_PARSED[key])
    except (FileNotFoundError, NotADirectoryError):
        raise SpecError(f"{path}: {what} not found") from None
    except IsADirectoryError:
        raise SpecError(f"{path}: is a folder, not a {what}") from None
    except UnicodeDecodeError:
        raise SpecError(f"{path}: not UTF-8 text") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1})" if mark is not None else ""
        raise SpecError(f"{path}: not valid YAML{at}: {getattr(exc, 'problem', None) or exc}") from None
