"""What every export reads from an exercise: its questions, its solution cells, its autograder folder."""
from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import nbformat

from dlgrade.assign.make_stubs import rewrite_regions
from dlgrade.errors import SpecError
from dlgrade.harness.course import Exercise, find_course
from dlgrade.harness.notebook import cell_question, read_notebook, role
from dlgrade.harness.questions import load_questions

_QID_IN_ID = re.compile(r"(?:^|[-_])(q\d+)(?:[-_]|$)")
_QID_IN_HEADING = re.compile(r"^#+\s*Q(\d+)\b")
_NOT_COPIED = shutil.ignore_patterns("samples", "__pycache__", ".*", "*.pyc")
"""Left out of the copy of ``autograder/<ex>/``: what :func:`dlgrade.grade.keys.autograder_digest` leaves out."""


@dataclass(frozen=True)
class QuestionInfo:
    """One hidden question as the platforms see it."""

    id: str
    points: float
    title: str
    manual: bool
    """A written answer: graded by hand on the platforms (nbgrader, otter), by the rubric engine in dlgrade."""


@dataclass(frozen=True)
class ExerciseParts:
    """An exercise, read once for an export."""

    exercise: Exercise
    solution: nbformat.NotebookNode
    questions: tuple[QuestionInfo, ...]

    @property
    def id(self) -> str:
        return self.exercise.id

    def question_of(self, cell) -> str | None:
        """The question a cell belongs to: its short-answer record, else ``qN`` in its id."""
        qid = cell_question(cell)
        if qid:
            return qid
        m = _QID_IN_ID.search(str(cell.get("id", "")))
        if m:
            return m.group(1)
        if cell.cell_type == "markdown":
            m = _QID_IN_HEADING.match(cell.source.lstrip())
            if m:
                return f"q{m.group(1)}"
        return None


def read_parts(exercise: str, course=None) -> ExerciseParts:
    """The exercise's hidden questions (public ones left out) and its reference solution."""
    ex = find_course(course).exercise(exercise)
    if not ex.solution_path.exists():
        raise SpecError(f"{ex.solution_path}: reference solution not found")
    solution = read_notebook(ex.solution_path)
    manual = {cell_question(c) for c in solution.cells if role(c) == "short_answer"}
    questions = tuple(QuestionInfo(q.id, q.points, q.title, q.id in manual)
                      for q in load_questions(ex.tests_path) if not q.public)
    if not questions:
        raise SpecError(f"{ex.tests_path}: no graded questions")
    return ExerciseParts(ex, solution, questions)


def copy_spec(exercise: Exercise, root: Path) -> Path:
    """Copy what grading needs from ``autograder/<ex>/`` to ``root/autograder/<ex>/``; returns that folder.

    The copy has the same files as the original (samples aside), so the grading secret derived from
    it, and with it every student's secret inputs, are those of ``dlgrade grade``.
    """
    target = Path(root) / "autograder" / exercise.id
    if target.exists():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(exercise.spec_dir, target, ignore=_NOT_COPIED)   # factories.py, thresholds, ... all of it
    return target


def hints_outside(source: str, *, marker: str = "###", otter_prompt: bool = False,
                  where: str = "a solution cell") -> str:
    """Move each solution region's ``### HINT:`` lines above the region as comments, and write its markers
    with ``marker``. With ``otter_prompt``, the region is preceded by an otter prompt block holding
    dlgrade's stub (``raise NotImplementedError(hint)``), which otter puts in the student notebook
    instead of its ``...``."""
    def moved(indent: str, hints: list[str], body: list[str]) -> list[str]:
        out = [f"{indent}# Hint: {h}" for h in hints]
        if otter_prompt:
            message = json.dumps(" ".join(hints) or "complete this part")
            out += [f'{indent}""" # BEGIN PROMPT', f"{indent}# YOUR CODE HERE",
                    f"{indent}raise NotImplementedError({message})", f'{indent}""" # END PROMPT',
                    f"{indent}{marker} BEGIN SOLUTION NO PROMPT"]
        else:
            out.append(f"{indent}{marker} BEGIN SOLUTION")
        return [*out, *body, f"{indent}{marker} END SOLUTION"]

    return rewrite_regions(source, where, moved)


def fresh_cell(cell, source: str | None = None, *, metadata: dict | None = None):
    """A copy of ``cell`` without outputs, with its dlgrade record and the given extra metadata."""
    src = cell.source if source is None else source
    meta = {"dlgrade": dict(cell.metadata["dlgrade"])} if "dlgrade" in cell.get("metadata", {}) else {}
    meta.update(metadata or {})
    if cell.cell_type == "code":
        new = nbformat.v4.new_code_cell(src, metadata=meta)
    elif cell.cell_type == "markdown":
        new = nbformat.v4.new_markdown_cell(src, metadata=meta)
    else:
        new = nbformat.v4.new_raw_cell(src, metadata=meta)
    new["id"] = cell.get("id") or new["id"]
    return new
