"""Markdown and HTML documents: the instructor's answer key, or the student's question sheet.

The instructor version has, per question, its metadata, key, explanation,
rubric table and follow-ups; parameterised questions show the formula and one
worked variant. The student version (``student=True``) has prompts and
options only: no key, no explanation, no rubric, no model answer. HTML is the
same Markdown converted by Python-Markdown.

Without a student id, options are in the export order of
:func:`dlgrade.quiz.exporters.common.export_order` (keys spread over the
letters; the answer key uses the same order as the sheet). With
``student_id``, the document is that student's variant (pool draws, parameter
values and choice order of ``quiz take``): the sheet to hand out, and the
matching key for the instructor.

Rubric phrases, labels and misconceptions are written literally: Markdown
syntax in them (``exist*; ... learnab*``, ``a|b``, ``_``) is escaped.
"""
from __future__ import annotations

import html
import re

from dlgrade.quiz.exporters.common import export_order, pooled, variants
from dlgrade.quiz.score import key_text
from dlgrade.quiz.spec import Question, Quiz
from dlgrade.quiz.variant import Instance, format_number, make_paper

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|])")


def literal(text: str) -> str:
    """``text`` escaped so that Markdown shows it as written (no emphasis, links, HTML or table breaks)."""
    text = text.replace("\n", " ").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def _question_md(q: Question, number: str, *, student: bool, inst: Instance | None = None,
                 key_at: int | None = None) -> list[str]:
    inst = inst if inst is not None else variants(q, 1, key_at=key_at)[0]
    kind = {"single": "choose one", "multi": "choose all that apply", "numeric": "number",
            "short": "short answer", "interview": "open answer"}[q.type]
    pts = "optional, not counted" if q.optional else f"{format_number(q.points)} pt"
    head = f"### {number}. `{q.id}` ({pts}, {kind})"
    if not student:
        head += f" \u2014 {q.topic}, {q.difficulty}"
    out = [head, ""]
    if q.parent:
        out += [f"*Follow-up to `{q.parent}`.*", ""]
    out += [inst.prompt + (f" [{q.numeric.unit}]" if q.numeric is not None and q.numeric.unit else ""), ""]
    for i, c in enumerate(inst.choices):
        mark = "" if student else ("**[x]** " if c.correct else "[ ] ")
        out.append(f"- {mark}{chr(65 + i)}) {c.text}")
    if inst.choices:
        out.append("")
    if student:
        if q.type in ("short", "interview", "numeric"):
            out += ["Answer: ______________________________", ""]
        return out
    out += [f"*Source: {q.source}*", ""]
    if q.type == "multi":
        out += ["**Key:** " + key_text(inst) + " (partial credit: right minus wrong, over the number right)", ""]
    elif q.type != "interview" and q.type != "short":
        out += ["**Key:** " + key_text(inst), ""]
    if q.params:
        ranges = "; ".join(f"`{p.name}` \u2208 {{{', '.join(format_number(v) for v in p.values)}}}" for p in q.params)
        out += [f"**Parameterised:** key = `{q.numeric.formula}` with {ranges}; shown with "
                + ", ".join(f"{k} = {format_number(v)}" for k, v in inst.values.items()) + ".", ""]
    if q.is_open:
        out += [f"**Model answer:** {q.model_answer}", "", "| Key point | Weight | Accepted phrasings |",
                "|---|---|---|"]
        for kp in q.rubric.key_points:
            extra = "".join(f" AND ({' / '.join(g)})" for g in kp.requires_all)
            out.append(f"| {literal(kp.title)} | {kp.weight:g} | {literal('; '.join(kp.phrases) + extra)} |")
        out.append("")
        if q.rubric.min_words:
            out += [f"Expected length: at least {q.rubric.min_words} words.", ""]
        if q.rubric.contradictions:
            out += [f"Misconceptions (each \u2212{q.rubric.contradiction_penalty:.0%}): "
                    + literal("; ".join(q.rubric.contradictions)), ""]
    out += [f"**Explanation:** {inst.explanation}", ""]
    return out


def to_markdown(quiz: Quiz, *, student: bool = False, student_id: str | None = None) -> str:
    """The quiz as Markdown: an answer key, or with ``student=True`` a sheet without answers.

    With ``student_id``: that student's variant (see the module docstring).
    """
    title = f"# {quiz.title}" + (" \u2014 answer key" if not student else "")
    out = [title, ""]
    paper = make_paper(quiz, student_id) if student_id is not None else None
    if paper is not None:
        out += [f"Student: `{paper.student_id}`", ""]
    if quiz.description:
        out += [quiz.description, ""]
    pools = pooled(quiz)
    order = export_order(quiz)
    for t_index, topic in enumerate(quiz.topics, 1):
        members = [q for q in quiz.questions if q.topic == topic]
        if paper is not None:
            drawn = {i.id for i in paper.instances}
            members = [q for q in members if q.id in drawn]
        out += [f"## {t_index}. {topic}", ""]
        if topic in pools and paper is None:
            out += [f"*Each student answers {pools[topic]} of these {len(members)} questions.*", ""]
        for n, q in enumerate(members, 1):
            for m, f in enumerate((q, *q.follow_ups)):
                number = f"{t_index}.{n}" + (f".{m}" if m else "")
                inst = paper.instance(f.id) if paper is not None else None
                out += _question_md(f, number, student=student, inst=inst, key_at=order.get(f.id))
    return "\n".join(out).rstrip() + "\n"


def to_html(quiz: Quiz, *, student: bool = False, student_id: str | None = None) -> str:
    """The Markdown document as a standalone HTML page."""
    import markdown

    body = markdown.markdown(to_markdown(quiz, student=student, student_id=student_id), extensions=["tables"])
    title = html.escape(quiz.title + ("" if student else " \u2014 answer key"))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{title}</title><style>body{{font-family:sans-serif;max-width:50em;margin:auto}}"
            "table{border-collapse:collapse}td,th{border:1px solid #999;padding:.2em .4em}</style>"
            f"</head><body>\n{body}\n</body></html>\n")
