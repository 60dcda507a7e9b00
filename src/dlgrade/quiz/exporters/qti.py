"""Canvas-importable QTI 1.2, written by text2qti.

The quiz is rendered as text2qti's plain-text quiz format and converted with
its ``Quiz`` and ``QTI`` classes (no config file is read or written). Pools
become text2qti groups (``pick: N``); a parameterised question outside a pool
becomes a group of its fixed variants with ``pick: 1``. The zip is repacked
with fixed timestamps so the same bank gives byte-identical output.
"""
from __future__ import annotations

import io
import re
import zipfile

from dlgrade.errors import DlgradeError
from dlgrade.quiz.exporters.common import plain_phrases, pooled, variants
from dlgrade.quiz.spec import Question, Quiz
from dlgrade.quiz.variant import Instance


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
        for q in members:
            for fq in (q, *q.follow_ups):
                insts = variants(fq, n_variants)
                if group or len(insts) == 1:
                    lines += _question(insts[0], fq.id)
                    continue
                lines += ["GROUP", "pick: 1", f"points per question: {_points(fq)}", ""]
                for k, inst in enumerate(insts, 1):
                    lines += _question(inst, f"{fq.id}-v{k}")
                lines += ["END_GROUP", ""]
        if group:
            lines += ["END_GROUP", ""]
    return "\n".join(lines)


def to_qti_zip(quiz: Quiz, *, n_variants: int = 3) -> bytes:
    """A QTI 1.2 zip (``imsmanifest.xml`` + assessment) that Canvas imports."""
    from text2qti.config import Config
    from text2qti.err import Text2qtiError
    from text2qti.qti import QTI
    from text2qti.quiz import Quiz as T2QQuiz

    text = to_text2qti(quiz, n_variants=n_variants)
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
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()
