"""Canvas-importable QTI 1.2, written by text2qti.

The quiz is rendered as text2qti's plain-text quiz format and converted with
its ``Quiz`` and ``QTI`` classes (no config file is read or written). Pools
become text2qti groups (``pick: N``); a parameterised question outside a pool
becomes a group of its fixed variants with ``pick: 1``. The zip is repacked
with fixed timestamps so the same bank gives byte-identical output.

**Points possible.** Canvas takes a quiz's total from ``points_possible`` in
``assessment_meta.xml``. text2qti adds up every question it read, the members
of groups included, on top of each group's ``pick`` times its points, so a
bank with pools or variants gets a total no student can reach. The export
writes the total of one student's quiz instead (standalone questions plus
``pick`` x points per group) and checks it against :func:`make_paper`.

Optional follow-ups are left out: Canvas counts every question's points
(text2qti needs them positive), and an optional item must not change the total.

Options are written in the export order (keys spread over the letters) and
``Shuffle answers: true`` makes Canvas shuffle them per student as well.
"""
from __future__ import annotations

import io
import re
import zipfile

from dlgrade.errors import DlgradeError
from dlgrade.quiz.exporters.common import export_order, plain_phrases, pooled, variants
from dlgrade.quiz.spec import Question, Quiz
from dlgrade.quiz.variant import Instance, make_paper


EXAMPLE_STUDENT = "points-check"
_POINTS_RE = re.compile(rb"<points_possible>[^<]*</points_possible>")


def _para(text: str) -> str:
    """One Markdown paragraph on one line, with ``$`` escaped (text2qti reads ``$...$`` as LaTeX)."""
    return re.sub(r"\s+", " ", text).strip().replace("$", "\\$")


def _points(q: Question) -> str:
    if (2 * q.points) != int(2 * q.points):
        raise DlgradeError(f"{q.id}: QTI needs whole or half points, got {q.points:g}")
    return f"{q.points:g}"


def _question(inst: Instance, title: str) -> list[str]:
    q = inst.question
    prompt = inst.prompt if q.parent is None else f"(Follow-up to {q.parent}) {inst.prompt}"
    feedback = inst.explanation if not q.is_open else f"{q.model_answer} {inst.explanation}"
    lines = [f"Title: {title}", f"Points: {_points(q)}", f"1.  {_para(prompt)}", f"... {_para(feedback)}"]
    if q.type == "single":
        lines += [f"{'*' if c.correct else ''}{chr(97 + i)}) {_para(c.text)}" for i, c in enumerate(inst.choices)]
    elif q.type == "multi":
        lines += [f"{'[*]' if c.correct else '[ ]'} {_para(c.text)}" for c in inst.choices]
    elif q.type == "numeric":
        tol = max(q.numeric.tolerance, abs(inst.key) * q.numeric.rel_tolerance)
        if min(abs(inst.key - tol), abs(inst.key + tol)) < 1e-4:
            raise DlgradeError(f"{q.id}: QTI (text2qti) needs accepted answers of magnitude >= 0.0001")
        exact = float(inst.key).is_integer() and not tol
        lines.append(f"=   {int(inst.key)}" if exact else f"=   {inst.key!r} +- {tol!r}")
    elif plain_phrases(q):
        lines += [f"*   {_para(p)}" for p in plain_phrases(q)]
    else:
        lines.append("____")
    return lines + [""]


def to_text2qti(quiz: Quiz, *, n_variants: int = 3) -> str:
    """The quiz in text2qti's plain-text format."""
    return _text2qti(quiz, n_variants)[0]


def _text2qti(quiz: Quiz, n_variants: int) -> tuple[str, float]:
    """The text2qti text and the points of one student's quiz as it describes it."""
    order = export_order(quiz)
    total = 0.0
    lines = [f"Quiz title: {_para(quiz.title)}"]
    if quiz.description:
        lines.append(f"Quiz description: {_para(quiz.description)}")
    lines += ["Shuffle answers: true", ""]
    pools = pooled(quiz)
    for topic in quiz.topics:
        members = [q for q in quiz.questions if q.topic == topic]
        group = topic in pools and not any(q.follow_ups for q in members)
        if group:
            pts = {q.points for q in members}
            if len(pts) != 1:
                raise DlgradeError(f"{quiz.path}: pool {topic!r} mixes point values {sorted(pts)}; "
                                   "QTI groups need equal points")
            lines += ["GROUP", f"pick: {pools[topic]}", f"points per question: {_points(members[0])}", ""]
            total += pools[topic] * members[0].points
        for q in members:
            for fq in (q, *(f for f in q.follow_ups if not f.optional)):
                insts = variants(fq, n_variants, key_at=order.get(fq.id))
                if not group:
                    total += fq.points
                if group or len(insts) == 1:
                    lines += _question(insts[0], fq.id)
                    continue
                lines += ["GROUP", "pick: 1", f"points per question: {_points(fq)}", ""]
                for k, inst in enumerate(insts, 1):
                    lines += _question(inst, f"{fq.id}-v{k}")
                lines += ["END_GROUP", ""]
        if group:
            lines += ["END_GROUP", ""]
    return "\n".join(lines), total


def to_qti_zip(quiz: Quiz, *, n_variants: int = 3) -> bytes:
    """A QTI 1.2 zip (``imsmanifest.xml`` + assessment) that Canvas imports."""
    from text2qti.config import Config
    from text2qti.err import Text2qtiError
    from text2qti.qti import QTI
    from text2qti.quiz import Quiz as T2QQuiz

    text, total = _text2qti(quiz, n_variants)
    student_total = make_paper(quiz, EXAMPLE_STUDENT).max_points
    if abs(total - student_total) > 1e-9:
        raise DlgradeError(f"{quiz.path}: the QTI export would be worth {total:g} points but a student's quiz is "
                           f"worth {student_total:g}", hint="a pool whose questions have follow-ups cannot be a "
                           "QTI group; give such a pool's questions no follow-ups")
    try:
        t2q = T2QQuiz(text, config=Config(), source_name=f"{quiz.id} (dlgrade export)")
        raw = QTI(t2q).zip_bytes()
    except Text2qtiError as exc:
        raise DlgradeError(f"{quiz.path}: text2qti rejected the quiz: {exc}") from None
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED if not info.is_dir() else zipfile.ZIP_STORED
            fixed.external_attr = info.external_attr
            data = src.read(info.filename)
            if info.filename.endswith("assessment_meta.xml"):
                data = _POINTS_RE.sub(f"<points_possible>{total:.1f}</points_possible>".encode(), data)
            dst.writestr(fixed, data)
    return out.getvalue()
