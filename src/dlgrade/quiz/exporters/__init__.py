"""``dlgrade quiz export``: a quiz as Moodle GIFT, Moodle XML, Canvas QTI, or a Markdown/HTML document."""
from __future__ import annotations

import re
from pathlib import Path

from dlgrade.errors import DlgradeError
from dlgrade.quiz import outputs
from dlgrade.quiz.bank import resolve_quiz
from dlgrade.quiz.spec import Quiz

FORMATS = {"gift": ".gift.txt", "moodle-xml": ".moodle.xml", "qti": ".qti.zip", "markdown": ".md",
           "html": ".html"}
"""Export format -> file suffix."""


def render(quiz: Quiz, fmt: str, *, student: bool = False, n_variants: int = 3,
           student_id: str | None = None) -> bytes:
    """The export of ``quiz`` in ``fmt`` as bytes (nothing written).

    ``student_id`` (markdown and html): that student's variant, as ``quiz take`` shows it.
    """
    if fmt not in FORMATS:
        raise DlgradeError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    if student and fmt not in ("markdown", "html"):
        raise DlgradeError(f"--student applies to markdown and html; {fmt} is an import format that needs the key")
    if student_id is not None and fmt not in ("markdown", "html"):
        raise DlgradeError(f"--student-id applies to markdown and html; {fmt} imports are shuffled per "
                           "student by the LMS itself")
    if student_id is not None and not student_id.strip():
        raise DlgradeError("--student-id must not be empty")
    if n_variants < 1:
        raise DlgradeError("--variants must be at least 1")
    if fmt == "gift":
        from dlgrade.quiz.exporters.gift import to_gift
        return to_gift(quiz, n_variants=n_variants).encode()
    if fmt == "moodle-xml":
        from dlgrade.quiz.exporters.moodle_xml import to_moodle_xml
        return to_moodle_xml(quiz, n_variants=n_variants).encode()
    if fmt == "qti":
        from dlgrade.quiz.exporters.qti import to_qti_zip
        return to_qti_zip(quiz, n_variants=n_variants)
    from dlgrade.quiz.exporters.answer_key import to_html, to_markdown
    return (to_markdown if fmt == "markdown" else to_html)(quiz, student=student, student_id=student_id).encode()


def export(quiz: str | Path | Quiz, *, format: str, student: bool = False, out: str | Path | None = None,
           bank: str | Path | None = None, n_variants: int = 3, student_id: str | None = None) -> Path:
    """Write ``quiz`` in ``format`` to ``out`` (default ``dlgrade-out/quiz/<id>[-<student id>][-student]<suffix>``)."""
    quiz = resolve_quiz(quiz, bank)
    data = render(quiz, format, student=student, n_variants=n_variants, student_id=student_id)
    if out is None:
        who = "-" + re.sub(r"[^A-Za-z0-9_.-]", "_", student_id.strip()) if student_id else ""
        out = Path("dlgrade-out") / "quiz" / f"{quiz.id}{who}{'-student' if student else ''}{FORMATS[format]}"
    return outputs.write_bytes(out, data)
