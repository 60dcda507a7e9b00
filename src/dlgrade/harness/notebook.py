"""Reading a notebook the way the grader does: cell roles, runnable code, answers.

Cells carry their role in ``metadata.dlgrade.role``:

``setup``         imports and constants; locked (restored from the template when grading)
``answer``        code the student writes (solution regions marked ``### BEGIN/END SOLUTION``)
``check``         a public self-check call, ``check("q1")``; locked, skipped when grading
``train``         heavy training/plotting for the student; skipped when grading
``short_answer``  a Markdown answer (``metadata.dlgrade.question`` names the question)
``solution_only`` present in the solution only; removed from the student notebook

Cells without a role run as written (code) or are context (Markdown).
"""
from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from dlgrade.errors import SubmissionError

ROLES = ("setup", "answer", "check", "train", "short_answer", "solution_only")
LOCKED_ROLES = ("setup", "check")
SKIPPED_WHEN_GRADING = ("check", "train", "solution_only")
_MAGIC = re.compile(r"^(\s*)([!%].*)$")
ANSWER_PLACEHOLDER = "*Write your answer here.*"
"""What ``dlgrade assign`` leaves where a written answer goes."""
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """Parse ``path`` as a v4 notebook; SubmissionError naming the file and the problem otherwise."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SubmissionError(f"{path}: cannot read ({exc.strerror})") from None
    if not raw.strip():
        raise SubmissionError(f"{path}: the file is empty")
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise SubmissionError(f"{path}: not a notebook (not UTF-8 text)") from None
    except json.JSONDecodeError as exc:
        raise SubmissionError(f"{path}: not a notebook (invalid JSON at line {exc.lineno}: {exc.msg})") from None
    if not isinstance(data, dict) or "cells" not in data and "worksheets" not in data:
        raise SubmissionError(f"{path}: not a notebook (no 'cells' in the JSON)")
    major = data.get("nbformat")
    if not isinstance(major, int):
        raise SubmissionError(f"{path}: not a notebook (no nbformat version)")
    try:
        nb = nbformat.reads(json.dumps(data), as_version=4)
    except Exception as exc:  # noqa: BLE001 - nbformat raises many kinds
        raise SubmissionError(f"{path}: notebook could not be read ({type(exc).__name__}: {exc})"[:300]) from None
    if major < 4:
        nb.metadata.setdefault("dlgrade_converted_from", major)
    if not nb.cells:
        raise SubmissionError(f"{path}: the notebook has no cells")
    return nb


def role(cell) -> str | None:
    meta = cell.get("metadata", {}).get("dlgrade", {})
    return meta.get("role") if isinstance(meta, dict) else None


def cell_question(cell) -> str | None:
    meta = cell.get("metadata", {}).get("dlgrade", {})
    return meta.get("question") if isinstance(meta, dict) else None


def strip_magics(source: str) -> tuple[str, int]:
    """Replace IPython magics and shell escapes (``!pip install``) by ``pass``; returns (code, count)."""
    lines, count = [], 0
    for line in source.splitlines():
        m = _MAGIC.match(line)
        if m:
            lines.append(f"{m.group(1)}pass  # dlgrade: removed `{m.group(2)[:60]}`")
            count += 1
        else:
            lines.append(line)
    return "\n".join(lines), count


@dataclass(frozen=True)
class CodeCell:
    """A code cell as the grader sees it."""

    index: int
    cell_id: str
    role: str | None
    source: str

    @property
    def skipped(self) -> bool:
        return self.role in SKIPPED_WHEN_GRADING


def code_cells(nb) -> list[CodeCell]:
    return [CodeCell(i, str(c.get("id", i)), role(c), c.source)
            for i, c in enumerate(nb.cells) if c.cell_type == "code"]


def short_answers(nb) -> dict[str, str]:
    """Markdown answers keyed by question id, without HTML comments and the placeholder."""
    out = {}
    for cell in nb.cells:
        if cell.cell_type == "markdown" and role(cell) == "short_answer" and cell_question(cell):
            text = _HTML_COMMENT.sub(" ", cell.source).replace(ANSWER_PLACEHOLDER, " ")
            out[cell_question(cell)] = text.strip()
    return out


def restore_locked(nb, template) -> list[str]:
    """Overwrite locked cells of ``nb`` with the template's (matched by id); returns messages.

    A locked cell the student deleted is put back in the template's position
    relative to its neighbours; one the student edited is restored.
    """
    messages = []
    by_id = {c.get("id"): i for i, c in enumerate(nb.cells)}
    for t_index, t_cell in enumerate(template.cells):
        if role(t_cell) not in LOCKED_ROLES:
            continue
        i = by_id.get(t_cell.get("id"))
        if i is None:
            nb.cells.insert(min(t_index, len(nb.cells)), nbformat.from_dict(dict(t_cell)))
            by_id = {c.get("id"): k for k, c in enumerate(nb.cells)}
            messages.append(f"a protected cell (id {t_cell.get('id')}) was missing and was restored")
        elif nb.cells[i].source != t_cell.source or role(nb.cells[i]) != role(t_cell):
            nb.cells[i] = nbformat.from_dict(dict(t_cell))
            messages.append(f"protected cell {i + 1} was edited; the original was restored")
    # Role metadata comes from the template too: a student cannot un-skip or re-role a cell.
    roles = {c.get("id"): c.get("metadata", {}).get("dlgrade") for c in template.cells}
    for cell in nb.cells:
        meta = cell.setdefault("metadata", {})
        if cell.get("id") in roles and roles[cell.get("id")] is not None:
            meta["dlgrade"] = roles[cell.get("id")]
        else:
            meta.pop("dlgrade", None)
    return messages


def run_cells(cells: list[CodeCell], namespace: dict, *, deadline: float | None = None):
    """Execute ``cells`` in ``namespace`` in order; an error in one cell does not stop the rest.

    Returns a list of ``(CodeCell, status, message)``. Used in the student's
    process only (sandboxed worker or the student's own machine).
    """
    from dlgrade.harness.ops import describe_exception

    results = []
    for cell in cells:
        if cell.skipped:
            results.append((cell, "skipped", ""))
            continue
        if deadline is not None and time.monotonic() > deadline:
            results.append((cell, "not_run", "the notebook ran out of time before this cell"))
            continue
        code, _ = strip_magics(cell.source)
        try:
            exec(compile(code, f"<cell {cell.index + 1}>", "exec"), namespace)  # noqa: S102 - the student's code, in its own process
        except SystemExit as exc:
            results.append((cell, "error", f"the cell called sys.exit({exc.code!r}); ignored"))
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001
            results.append((cell, "error", describe_exception(exc)["message"]))
        else:
            results.append((cell, "ok", ""))
    return results
