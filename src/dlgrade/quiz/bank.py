"""Finding and reading quiz files: a quiz is named by its id or by a path to its YAML file.

The bank directory is, in order: the ``bank`` argument, ``$DLGRADE_QUIZZES``,
``./quizzes`` when it exists, and the ``quizzes/`` folder of a source checkout.
"""
from __future__ import annotations

import os
from pathlib import Path

from dlgrade.errors import SpecError
from dlgrade.quiz.parse import quiz_from_dict
from dlgrade.quiz.spec import Quiz
from dlgrade.yamlfile import load_yaml

ENV_VAR = "DLGRADE_QUIZZES"


def bank_dir(bank: str | Path | None = None) -> Path:
    """The directory holding the quiz YAML files (see the module docstring for the search order)."""
    if bank is not None:
        path = Path(bank)
        if not path.is_dir():
            raise SpecError(f"{path}: quiz bank directory not found")
        return path
    if os.environ.get(ENV_VAR):
        return bank_dir(os.environ[ENV_VAR])
    for candidate in (Path("quizzes"), Path(__file__).resolve().parents[3] / "quizzes"):
        if candidate.is_dir() and any(candidate.glob("*.yaml")):
            return candidate
    raise SpecError("no quiz bank found", hint=f"pass --bank DIR or set {ENV_VAR}")


def load_quiz(path: str | Path) -> Quiz:
    """Read and validate one quiz file; errors name the file, question id and field."""
    path = Path(path)
    data = load_yaml(path, what="quiz file")
    return quiz_from_dict(data, str(path))


def quiz_files(bank: str | Path | None = None) -> list[Path]:
    """The quiz files of the bank, sorted by name (files starting with ``_`` are skipped)."""
    return sorted(p for p in bank_dir(bank).glob("*.yaml") if not p.name.startswith("_"))


def list_quizzes(bank: str | Path | None = None) -> list[Quiz]:
    """Every quiz in the bank, validated; quiz ids must be unique."""
    quizzes = [load_quiz(p) for p in quiz_files(bank)]
    seen: dict[str, str] = {}
    for q in quizzes:
        if q.id in seen:
            raise SpecError(f"{q.path}: id: {q.id!r} is also the id of {seen[q.id]}")
        seen[q.id] = q.path
    return quizzes


def resolve_quiz(quiz: str | Path | Quiz, bank: str | Path | None = None) -> Quiz:
    """A :class:`Quiz` from a quiz object, a YAML path, or a quiz id in the bank."""
    if isinstance(quiz, Quiz):
        return quiz
    path = Path(quiz)
    if path.suffix in (".yaml", ".yml") or path.is_file():
        return load_quiz(path)
    quizzes = list_quizzes(bank)
    for q in quizzes:
        if q.id == str(quiz):
            return q
    raise SpecError(f"unknown quiz {str(quiz)!r}",
                    hint="known quizzes: " + ", ".join(q.id for q in quizzes) + " (dlgrade quiz list)")
