"""Reading the course's YAML files with errors that name the file and the line."""
from __future__ import annotations

from pathlib import Path

from dlgrade.errors import SpecError


def load_yaml(path: str | Path, *, what: str = "file"):
    """The parsed content of ``path``; SpecError naming the file (and the line) when it is
    missing or is not valid YAML. ``what`` names the file in the not-found message."""
    import yaml

    path = Path(path)
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecError(f"{path}: {what} not found") from None
    except UnicodeDecodeError:
        raise SpecError(f"{path}: not UTF-8 text") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1})" if mark is not None else ""
        raise SpecError(f"{path}: not valid YAML{at}: {getattr(exc, 'problem', None) or exc}") from None
