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
from dlgrade.harness.strip_outputs import notebook_bytes
from dlgrade.harness.match_cells import CellMatch, is_check_call, match_cells

ROLES = ("setup", "answer", "check", "train", "short_answer", "solution_only")
LOCKED_ROLES = ("setup", "check")
SKIPPED_WHEN_GRADING = ("check", "train", "solution_only")
_MAGIC = re.compile(r"^(\s*)([!%].*)$")
ANSWER_PLACEHOLDER = "*Write your answer here.*"
"""What ``dlgrade assign`` leaves where a written answer goes."""


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """Parse ``path`` as a v4 notebook; SubmissionError naming the file and the problem otherwise."""
    path = Path(path)
    try:
        raw = notebook_bytes(path)  # a large file without its outputs, before parsing
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
    except RecursionError:
        raise SubmissionError(f"{path}: not a notebook (its JSON is nested too deeply to read)") from None
    if not isinstance(data, dict) or "cells" not in data and "worksheets" not in data:
        raise SubmissionError(f"{path}: not a notebook (no 'cells' in the JSON)")
    major = data.get("nbformat")
    if not isinstance(major, int):
        raise SubmissionError(f"{path}: not a notebook (no nbformat version)")
    for number, cell in enumerate(data.get("cells") if isinstance(data.get("cells"), list) else [], start=1):
        problem = _cell_problem(cell)     # before nbformat, which would only log it
        if problem:
            raise SubmissionError(f"{path}: not a notebook Jupyter can open (cell {number} {problem})")
    try:
        nb = nbformat.reads(json.dumps(data), as_version=4)
    except Exception as exc:  # noqa: BLE001 - nbformat raises many kinds
        raise SubmissionError(f"{path}: notebook could not be read ({type(exc).__name__}: {exc})"[:300]) from None
    if major < 4:
        nb.metadata.setdefault("dlgrade_converted_from", major)
        for cell in nb.cells:  # the converter makes up random ids: the grader matches cells instead
            cell.pop("id", None)
        nb["nbformat_minor"] = 4
    if not nb.cells:
        raise SubmissionError(f"{path}: the notebook has no cells")
    return nb


def _cell_problem(cell) -> str | None:
    """What makes a notebook cell (JSON as read) unusable, or None: nbformat only logs a notebook whose
    cells lack a type or a source, and the grader would fail on it later."""
    if not isinstance(cell, dict):
        return "is not a JSON object"
    kind = cell.get("cell_type")
    if kind not in ("code", "markdown", "raw"):
        return "has no cell_type" if kind is None else f"has an unknown cell_type {str(kind)[:40]!r}"
    source = cell.get("source")
    if not (isinstance(source, str) or isinstance(source, list) and all(isinstance(x, str) for x in source)):
        return "has no source" if source is None else "has a source that is not text"
    return None


def _dlgrade_meta(cell) -> dict:
    meta = cell.get("metadata")
    meta = meta.get("dlgrade") if isinstance(meta, dict) else None
    return meta if isinstance(meta, dict) else {}


def role(cell) -> str | None:
    return _dlgrade_meta(cell).get("role")


def cell_question(cell) -> str | None:
    return _dlgrade_meta(cell).get("question")


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
            text = without_comments(cell.source).replace(ANSWER_PLACEHOLDER, " ")
            out[cell_question(cell)] = text.strip()
    return out


def without_comments(text: str) -> str:
    """``text`` with each closed HTML comment (``<!-- ... -->``) replaced by a space; an unclosed one is
    kept. One pass over the text, however many ``<!--`` it holds (a regular expression's lazy match is
    quadratic there)."""
    parts, at = [], 0
    while (start := text.find("<!--", at)) >= 0:
        end = text.find("-->", start + 4)
        if end < 0:
            break
        parts += [text[at:start], " "]
        at = end + 3
    return "".join(parts) + text[at:]


def restore_locked(nb, template, match: CellMatch | None = None) -> list[str]:
    """Overwrite locked cells of ``nb`` with the template's; returns messages for the student.

    Cells are first matched to the template's (:func:`dlgrade.harness.match_cells.match_cells`:
    by id, then by content and position) and take the template's ids. A locked
    cell the student deleted is put back in the template's position relative
    to its neighbours; one the student edited is restored. Roles come from the
    template only; a cell that only calls ``check(...)`` is a check cell
    wherever it is. A short answer whose cell cannot be found is said so.
    """
    match = match or match_cells(nb, template)
    messages = []
    if not match.by_id_only:
        messages.append(("the notebook's cells have no ids (an older notebook format, or stripped by an editor)"
                         if match.without_ids else "some of the exercise's cells were replaced by new ones")
                        + ": they were matched to the exercise's cells by content and position")
    _adopt_ids(nb, template, match)
    by_id = {c.get("id"): i for i, c in enumerate(nb.cells)}
    for t_index, t_cell in enumerate(template.cells):
        if role(t_cell) not in LOCKED_ROLES:
            continue
        i = by_id.get(t_cell.get("id"))
        if i is None:
            nb.cells.insert(min(t_index, len(nb.cells)), nbformat.from_dict(dict(t_cell)))
            by_id = {c.get("id"): k for k, c in enumerate(nb.cells)}
            messages.append(f"a protected cell (id {t_cell.get('id')}) was missing and was restored")
        elif nb.cells[i].source != t_cell.source or role(nb.cells[i]) not in (role(t_cell), None):
            nb.cells[i] = nbformat.from_dict(dict(t_cell))
            messages.append(f"protected cell {i + 1} was edited; the original was restored")
        else:  # unchanged, perhaps without its metadata (stripped by an editor)
            nb.cells[i] = nbformat.from_dict(dict(t_cell))
    # Role metadata comes from the template too: a student cannot un-skip or re-role a cell.
    roles = {c.get("id"): c.get("metadata", {}).get("dlgrade") for c in template.cells}
    for cell in nb.cells:
        meta = cell.get("metadata")
        if not isinstance(meta, dict):  # a hand-edited notebook: nothing of it is trusted anyway
            meta = cell["metadata"] = nbformat.NotebookNode()
        if cell.get("id") in roles and roles[cell.get("id")] is not None:
            meta["dlgrade"] = roles[cell.get("id")]
        elif cell.cell_type == "code" and is_check_call(cell.source):
            meta["dlgrade"] = {"role": "check"}
        else:
            meta.pop("dlgrade", None)
    found = {cell.get("id") for cell in nb.cells}
    for t_cell in template.cells:
        if role(t_cell) == "short_answer" and cell_question(t_cell) and t_cell.get("id") not in found:
            why = ("no cell of the notebook could be matched to the answer cell (its cells have no ids)"
                   if match.without_ids else "its answer cell was deleted")
            messages.append(f"your answer to {cell_question(t_cell)} was not found: {why} (write it in the "
                            f"cell below the question, in the exercise's notebook)")
    return messages


def _adopt_ids(nb, template, match: CellMatch) -> None:
    """Matched cells take their template cell's id; other cells keep a unique id of their own."""
    t_ids = {c.get("id") for c in template.cells}
    used = set()
    for i, cell in enumerate(nb.cells):
        j = match.pairs.get(i)
        if j is not None and template.cells[j].get("id"):
            cell["id"] = template.cells[j]["id"]
        elif not cell.get("id") or cell.get("id") in t_ids or cell.get("id") in used:
            cell["id"] = f"student-{i + 1}"
        used.add(cell["id"])
    if nb.get("nbformat_minor", 5) < 5:
        nb["nbformat_minor"] = 5  # cells now have ids


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
