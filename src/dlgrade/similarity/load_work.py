"""What is compared: each submission's answers, question by question, and what does not count.

The exercise's template and reference notebooks give the layout
(:class:`Layout`): which question each answer cell belongs to (the
``check("qN")`` cell after it), which functions each question asks for, the
prompt of each written question, and the code every submission starts from or
is expected to contain (template and reference), which is excluded from matches.

A submission's code (recorded by ``dlgrade grade`` in ``results/<name>.json``,
after locked cells were restored) is cut into top-level statements; a statement
belongs to the question whose function it defines, otherwise to the question of
its cell (a cell the student added or split belongs to the question of the next
``check`` cell). So copied code is compared with the right question even when
cells were split, merged or reordered.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

from dlgrade.errors import DlgradeError, SpecError, SubmissionError
from dlgrade.grade.journal import read_result
from dlgrade.harness.notebook import ANSWER_PLACEHOLDER, code_cells, read_notebook, role, short_answers, strip_magics

_CHECK = re.compile(r"""\bcheck\(\s*["']([\w.-]+)["']""")
_HEADING = re.compile(r"^#+\s*Q(\d+)\b", re.IGNORECASE | re.MULTILINE)
COMPARED_ROLES = ("answer", None)
"""Code cells compared: answer cells and cells the student added."""


@dataclass(frozen=True)
class Layout:
    """The exercise's questions as the template lays them out."""

    code_questions: tuple[str, ...]
    text_questions: tuple[str, ...]
    answer_cells: dict[str, str]
    """Template answer cell id -> question."""
    names: dict[str, str]
    """Function or class the template asks for -> question."""
    keep: frozenset[str]
    """Names the template provides (imports, constants, the asked-for functions): not renamed."""
    prompts: dict[str, str]
    """Written question -> its prompt (the Markdown before the answer cell)."""
    boilerplate: tuple[str, ...]
    """Sources of the template's and the reference's code cells: excluded from matches."""


@dataclass
class Chunk:
    """Lines ``first``..``last`` of one of the student's cells, counted for one question."""

    cell: int
    """The cell's index in the notebook."""
    first: int
    last: int


@dataclass
class Work:
    """One graded submission, ready to compare."""

    key: str
    """The result file's stem (unique in the output folder)."""
    student_id: str
    name: str
    file: str
    cells: dict[int, str] = field(default_factory=dict)
    """Cell index -> source, for the compared code cells."""
    code: dict[str, list[Chunk]] = field(default_factory=dict)
    """Question -> the chunks of code counted for it."""
    text: dict[str, str] = field(default_factory=dict)
    """Written question -> the answer."""

    @property
    def label(self) -> str:
        return f"{self.student_id} ({self.name})" if self.name else self.student_id


def read_layout(template_path: Path, reference_path: Path) -> Layout:
    """The layout from the template notebook; the reference adds its code to the boilerplate."""
    try:
        template = read_notebook(template_path)
        reference = read_notebook(reference_path)
    except SubmissionError as exc:
        raise SpecError(str(exc), hint="run: dlgrade assign <exercise>") from None
    cells = list(template.cells)
    answer_cells, names, questions = {}, {}, []
    for i, cell in enumerate(cells):
        if cell.cell_type != "code" or role(cell) != "answer":
            continue
        q = _question_after(cells, i)
        if q is None:
            continue
        answer_cells[str(cell.get("id", i))] = q
        questions.append(q)
        for name, _, _ in top_level(cell.source):
            if name:
                names.setdefault(name, q)
    keep = set(names)
    for cell in cells:
        if cell.cell_type == "code" and role(cell) == "setup":
            keep |= bound_names(cell.source)
    for cell in list(cells) + list(reference.cells):
        if cell.cell_type == "code":
            keep |= imported_names(cell.source)
    prompts = {}
    for i, cell in enumerate(cells):
        if cell.cell_type == "markdown" and role(cell) == "short_answer":
            q = cell.get("metadata", {}).get("dlgrade", {}).get("question")
            if q:
                prompts[str(q)] = _prompt_before(cells, i)
    boilerplate = tuple(c.source for c in list(template.cells) + list(reference.cells) if c.cell_type == "code")
    return Layout(tuple(dict.fromkeys(questions)), tuple(prompts), answer_cells, names, frozenset(keep),
                  prompts, boilerplate)


def read_works(results_dir: Path, exercise: str, layout: Layout) -> list[Work]:
    """Every readable result of ``exercise`` in ``results_dir``, sorted by student id and file."""
    paths = sorted(results_dir.glob("*.json")) if results_dir.is_dir() else []
    if not paths:
        raise DlgradeError(f"{results_dir}: no results to compare", hint=f"grade first: dlgrade grade SUBMISSIONS "
                           f"--exercise {exercise} --out <the same folder>")
    works = []
    for path in paths:
        record = read_result(path)
        if record is None or record.get("exercise") != exercise or record.get("status") == "unreadable":
            continue
        if "code" not in record:
            raise DlgradeError(f"{path}: the result does not record the notebook's code (graded by an older "
                               "dlgrade)", hint="grade again with --regrade")
        works.append(work_from_record(path.stem, record, layout))
    if not works:
        raise DlgradeError(f"{results_dir}: no readable results of '{exercise}'")
    return sorted(works, key=lambda w: (w.student_id, w.file, w.key))


def work_from_record(key: str, record: dict, layout: Layout) -> Work:
    """A :class:`Work` from a result record (its ``code`` and ``answers``)."""
    work = Work(key, str(record.get("student_id", key)), str(record.get("name") or ""), str(record.get("file", "")))
    cells = [c for c in record.get("code", []) if isinstance(c, dict) and isinstance(c.get("source"), str)]
    assign_code(work, cells, layout)
    for q, text in (record.get("answers") or {}).items():
        text = str(text).replace(ANSWER_PLACEHOLDER, " ").strip()
        if q in layout.text_questions and text:
            work.text[q] = text
    return work


def work_from_notebook(key: str, nb, layout: Layout, *, student_id: str | None = None) -> Work:
    """A :class:`Work` straight from a notebook (the reference, tests, benchmarks)."""
    cells = [{"index": c.index, "cell_id": c.cell_id, "role": c.role, "source": c.source} for c in code_cells(nb)]
    return work_from_record(key, {"student_id": student_id or key, "code": cells, "answers": short_answers(nb)},
                            layout)


def assign_code(work: Work, cells: list[dict], layout: Layout) -> None:
    """Cut the compared cells into chunks, each counted for one question."""
    fallback = layout.code_questions[-1] if layout.code_questions else None
    for pos, cell in enumerate(cells):
        if cell.get("role") not in COMPARED_ROLES or not cell["source"].strip():
            continue
        q = layout.answer_cells.get(str(cell.get("cell_id"))) or _next_check(cells, pos) or fallback
        index = int(cell.get("index", pos))
        work.cells[index] = cell["source"]
        for name, first, last in top_level(cell["source"]):
            work.code.setdefault(layout.names.get(name, q), []).append(Chunk(index, first, last))
    work.code.pop(None, None)


def top_level(source: str) -> list[tuple[str | None, int, int]]:
    """``(defined name or None, first line, last line)`` of each top-level statement; one chunk when unparsable."""
    code, _ = strip_magics(source)
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # student code: anything may fail to parse
        return [(None, 1, max(1, len(source.splitlines())))]
    out = []
    for node in tree.body:
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        name = node.name if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) else None
        out.append((name, first, node.end_lineno or node.lineno))
    return out


def bound_names(source: str) -> set[str]:
    """Names a cell defines at top level (imports, assignments, functions, classes)."""
    try:
        tree = ast.parse(strip_magics(source)[0])
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # student code: anything may fail to parse
        return set()
    out = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            out |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return out | imported_names(source)


def imported_names(source: str) -> set[str]:
    try:
        tree = ast.parse(strip_magics(source)[0])
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # student code: anything may fail to parse
        return set()
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            out |= {(a.asname or a.name).split(".")[0] for a in node.names if a.name != "*"}
    return out


def _question_after(cells, i: int) -> str | None:
    """The question of the first ``check`` cell after cell ``i``; else of the heading above it."""
    for cell in cells[i + 1:]:
        if cell.cell_type == "code" and role(cell) == "answer":
            break
        if cell.cell_type == "code" and role(cell) == "check":
            m = _CHECK.search(cell.source)
            if m:
                return m.group(1)
    for cell in reversed(cells[:i]):
        if cell.cell_type == "markdown":
            m = _HEADING.search(cell.source)
            if m:
                return f"q{m.group(1)}"
    return None


def _next_check(cells: list[dict], pos: int) -> str | None:
    for cell in cells[pos + 1:]:
        if cell.get("role") == "check":
            m = _CHECK.search(cell["source"])
            if m:
                return m.group(1)
    return None


def _prompt_before(cells, i: int) -> str:
    parts = []
    for cell in reversed(cells[:i]):
        if cell.cell_type != "markdown" or role(cell) == "short_answer":
            break
        parts.append(cell.source)
    return "\n".join(reversed(parts))
