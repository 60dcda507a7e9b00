"""Markdown and HTML documents: the instructor's answer key, or the student's question sheet.

The instructor version has, per question, its metadata, key, explanation,
rubric table and follow-ups; parameterised questions show the formula and one
worked variant. The student version (``student=True``) has prompts and
options only: no key, no explanation, no rubric, no model answer. HTML is the
same Markdown converted by Python-Markdown.
"""
from __future__ import annotations

import html

from dlgrade.quiz.exporters.common import pooled, variants
from dlgrade.quiz.score import key_text
from dlgrade.quiz.spec import Question, Quiz
from dlgrade.quiz.variant import format_number


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _question_md(q: Question, number: str, *, student: bool) -> list[str]:
    inst = variants(q, 1)[0]
    kind = {"single": "choose one", "multi": "choose all that apply", "numeric": "number",
            "short": "short answer", "interview": "open answer"}[q.type]
    head = f"### {number}. `{q.id}` ({format_number(q.points)} pt, {kind})"
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
            out.append(f"| {_cell(kp.title)} | {kp.weight:g} | {_cell('; '.join(kp.phrases) + extra)} |")
        out.append("")
        if q.rubric.min_words:
            out += [f"Expected length: at least {q.rubric.min_words} words.", ""]
        if q.rubric.contradictions:
            out += [f"Misconceptions (each \u2212{q.rubric.contradiction_penalty:.0%}): "
                    + "; ".join(q.rubric.contradictions), ""]
    out += [f"**Explanation:** {inst.explanation}", ""]
    return out


def to_markdown(quiz: Quiz, *, student: bool = False) -> str:
    """The quiz as Markdown: an answer key, or with ``student=True`` a sheet without answers."""
    title = f"# {quiz.title}" + (" \u2014 answer key" if not student else "")
    out = [title, ""]
    if quiz.description:
        out += [quiz.description, ""]
    pools = pooled(quiz)
    for t_index, topic in enumerate(quiz.topics, 1):
        members = [q for q in quiz.questions if q.topic == topic]
        out += [f"## {t_index}. {topic}", ""]
        if topic in pools:
            out += [f"*Each student answers {pools[topic]} of these {len(members)} questions.*", ""]
        for n, q in enumerate(members, 1):
            out += _question_md(q, f"{t_index}.{n}", student=student)
            for m, f in enumerate(q.follow_ups, 1):
                out += _question_md(f, f"{t_index}.{n}.{m}", student=student)
    return "\n".join(out).rstrip() + "\n"


def to_html(quiz: Quiz, *, student: bool = False) -> str:
    """The Markdown document as a standalone HTML page."""
    import markdown

    body = markdown.markdown(to_markdown(quiz, student=student), extensions=["tables"])
    title = html.escape(quiz.title + ("" if student else " \u2014 answer key"))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{title}</title><style>body{{font-family:sans-serif;max-width:50em;margin:auto}}"
            "table{border-collapse:collapse}td,th{border:1px solid #999;padding:.2em .4em}</style>"
            f"</head><body>\n{body}\n</body></html>\n")
