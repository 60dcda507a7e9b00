"""``dlgrade quiz grade``: a class's responses -> gradebook CSV, review list, per-student feedback.

Each student's paper is rebuilt from the seed (student id, quiz id), so the
letters they chose and the parameter values they saw are interpreted exactly
as when they took the quiz. Outputs, all written atomically and deterministic
(sorted rows, fixed columns, no timestamps):

* ``gradebook.csv``: student_id, score, max_points, percent, answered, missing,
  needs_review, then the points of every question id (blank: not in that student's variant);
* ``review.csv``: every answer flagged for instructor review, with the reasons;
* ``feedback/<student_id>.md``: each answer, its points, key points found and missing
  (an id with characters other than letters, digits and ``._-`` gets ``_`` for them and a short hash).

Student ids, reasons and answers that start like a spreadsheet formula (``=``,
``+``, ``-``, ``@``) get a leading ``'`` in the CSVs.
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from dlgrade.quiz import outputs
from dlgrade.quiz.bank import resolve_quiz
from dlgrade.quiz.responses import ResponseRow, read_responses
from dlgrade.rubric.grade import SemanticMatcher
from dlgrade.quiz.score import Feedback, score_response
from dlgrade.quiz.spec import Quiz
from dlgrade.quiz.variant import format_number, make_paper
from dlgrade.spreadsheet import safe_cell

GRADEBOOK_FIXED = ["student_id", "score", "max_points", "percent", "answered", "missing", "needs_review"]


@dataclass(frozen=True)
class StudentGrade:
    """One student's graded paper."""

    student_id: str
    """The student."""
    feedback: tuple[Feedback, ...]
    """One per question of the student's variant, in paper order."""
    max_points: float
    """Points available in the student's variant."""
    not_in_variant: tuple[str, ...] = ()
    """Question ids answered although not drawn for this student (not graded, reported)."""

    @property
    def score(self) -> float:
        return round(sum(f.points for f in self.feedback if f.counts), 4)

    @property
    def needs_review(self) -> int:
        return sum(f.needs_review for f in self.feedback)


@dataclass(frozen=True)
class GradeReport:
    """What ``grade`` produced."""

    students: tuple[StudentGrade, ...]
    """Sorted by student id."""
    gradebook: Path
    """The gradebook CSV."""
    review: Path
    """The review list CSV."""
    feedback_dir: Path
    """Folder of per-student feedback files."""


def grade_row(quiz: Quiz, row: ResponseRow, *, matcher: SemanticMatcher | None = None) -> StudentGrade:
    """Grade one student's answers against their own variant of ``quiz``."""
    paper = make_paper(quiz, row.student_id)
    feedback = tuple(score_response(i, row.answers.get(i.id), matcher=matcher) for i in paper.instances)
    drawn = {i.id for i in paper.instances}
    extra = tuple(sorted(q for q, a in row.answers.items() if a and q not in drawn))
    return StudentGrade(row.student_id, feedback, paper.max_points, extra)


def _num(x: float) -> str:
    return f"{round(x, 4):g}"


def gradebook_csv(quiz: Quiz, students: Iterable[StudentGrade]) -> str:
    """The gradebook as CSV text (fixed columns, rows sorted by student id)."""
    qids = [q.id for q in quiz.all_questions()]
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(GRADEBOOK_FIXED + qids)
    for s in sorted(students, key=lambda s: s.student_id):
        by_id = {f.question_id: f for f in s.feedback}
        answered = sum(f.answered for f in s.feedback)
        missing = sum(not f.answered and f.counts for f in s.feedback)    # a skipped optional item is not missing
        pct = 100 * s.score / s.max_points if s.max_points else 0.0
        w.writerow([safe_cell(s.student_id), _num(s.score), _num(s.max_points), f"{pct:.1f}", answered,
                    missing, s.needs_review]
                   + [_num(by_id[q].points) if q in by_id else "" for q in qids])
    return buf.getvalue()


def review_csv(students: Iterable[StudentGrade]) -> str:
    """Every flagged answer: student, question, points, reasons, response."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["student_id", "question_id", "points", "max_points", "reasons", "response"])
    for s in sorted(students, key=lambda s: s.student_id):
        for f in s.feedback:
            if f.needs_review:
                w.writerow([safe_cell(s.student_id), f.question_id, _num(f.points), _num(f.max_points),
                            safe_cell("; ".join(f.reasons)), safe_cell(f.response)])
    return buf.getvalue()


def feedback_markdown(quiz: Quiz, s: StudentGrade) -> str:
    """One student's feedback file."""
    lines = [f"# {quiz.title}: feedback for {s.student_id}", "",
             f"Score: **{format_number(s.score)} / {format_number(s.max_points)}**", ""]
    if s.not_in_variant:
        lines += [f"Answered but not in your variant (not graded): {', '.join(s.not_in_variant)}", ""]
    for n, f in enumerate(s.feedback, 1):
        q = quiz.question(f.question_id)
        lines += [f"## Q{n} `{f.question_id}`: {format_number(round(f.points, 2))} / {format_number(f.max_points)}",
                  "", f"> {q.prompt}", "", f"Your answer: {f.response or '(none)'}", ""]
        lines += [f"- {line}" for line in f.as_text().splitlines()]
        lines.append("")
    return "\n".join(lines)


def safe_name(student_id: str) -> str:
    """A file name for a student id (letters, digits, ``._-``; others become ``_``, and then a short hash of
    the id follows, so that ``b_b`` and ``bоb`` do not share a file)."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", student_id).strip(".")[:80] or "_"
    if name != student_id:
        name += "-" + hashlib.sha256(student_id.encode("utf-8", "surrogatepass")).hexdigest()[:6]
    return name


def grade(quiz: str | Path | Quiz, responses: str | Path, *, out: str | Path | None = None,
          bank: str | Path | None = None, ignore_columns: Iterable[str] = (),
          matcher: SemanticMatcher | None = None) -> GradeReport:
    """Grade a class's ``responses`` to ``quiz``; writes gradebook, review list and feedback under ``out``.

    ``out`` defaults to ``dlgrade-out/quiz/<quiz id>``.
    """
    quiz = resolve_quiz(quiz, bank)
    rows = read_responses(responses, quiz, ignore_columns=ignore_columns)
    students = tuple(sorted((grade_row(quiz, r, matcher=matcher) for r in rows), key=lambda s: s.student_id))
    out = Path(out) if out is not None else Path("dlgrade-out") / "quiz" / quiz.id
    names = [safe_name(s.student_id) for s in students]
    if len(set(names)) != len(names):
        from dlgrade.errors import DlgradeError
        raise DlgradeError(f"{responses}: two student ids map to the same feedback file name")
    for s, name in zip(students, names):
        outputs.write_text(out / "feedback" / f"{name}.md", feedback_markdown(quiz, s))
    review = outputs.write_text(out / "review.csv", review_csv(students))
    book = outputs.write_text(out / "gradebook.csv", gradebook_csv(quiz, students))
    return GradeReport(students, book, review, out / "feedback")
