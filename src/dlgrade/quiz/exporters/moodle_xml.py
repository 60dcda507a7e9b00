"""Moodle XML: the richest Moodle import format, and the one that keeps interview rubrics.

Element names and order follow Moodle's XML writer (``question/format/xml/format.php``):
a ``category`` question per quiz topic; ``multichoice`` (``single`` true/false),
``numerical`` (``tolerance``), ``shortanswer`` (``usecase``) and ``essay``
questions. Open questions are essays whose ``graderinfo`` holds the rubric
(key points, weights, accepted phrasings, misconceptions) and the model answer,
for the teacher who grades them in Moodle. Text is HTML converted from the
bank's Markdown.
"""
from __future__ import annotations

import html
import xml.etree.ElementTree as ET

from dlgrade.quiz.exporters.common import named_instances, plain_phrases, rubric_lines
from dlgrade.quiz.spec import Quiz
from dlgrade.quiz.variant import Instance


def _html(text: str) -> str:
    import markdown

    return markdown.markdown(text, extensions=["tables"])


def _text_el(parent: ET.Element, tag: str, text: str, *, fmt: str | None = "html") -> ET.Element:
    el = ET.SubElement(parent, tag, {"format": fmt} if fmt else {})
    ET.SubElement(el, "text").text = text
    return el


def _simple(parent: ET.Element, tag: str, value: object) -> None:
    ET.SubElement(parent, tag).text = str(value)


def _fraction(x: float) -> str:
    return f"{x:.5f}".rstrip("0").rstrip(".")


def grader_info(inst: Instance) -> str:
    """HTML for an essay's grader information: the rubric and the model answer."""
    q = inst.question
    items = "".join(f"<li>{html.escape(line)}</li>" for line in rubric_lines(q))
    follow = "".join(f"<li>{html.escape(f.prompt)}</li>" for f in q.follow_ups)
    return (f"<p><b>Rubric</b> (dlgrade key points; score = found weight / total)</p><ul>{items}</ul>"
            f"<p><b>Model answer:</b> {html.escape(q.model_answer)}</p>"
            + (f"<p><b>Follow-ups</b></p><ul>{follow}</ul>" if follow else ""))


def _question(root: ET.Element, inst: Instance, name: str) -> None:
    q = inst.question
    kind = {"single": "multichoice", "multi": "multichoice", "numeric": "numerical",
            "short": "shortanswer" if plain_phrases(q) else "essay", "interview": "essay"}[q.type]
    el = ET.SubElement(root, "question", {"type": kind})
    _text_el(el, "name", name, fmt=None)
    prompt = inst.prompt if q.parent is None else f"(Follow-up to {q.parent}) {inst.prompt}"
    _text_el(el, "questiontext", _html(prompt))
    general = inst.explanation if not q.is_open else f"{q.model_answer}\n\n{inst.explanation}"
    _text_el(el, "generalfeedback", _html(general))
    _simple(el, "defaultgrade", "0" if q.optional else f"{q.points:g}")   # optional: feedback only
    _simple(el, "penalty", "0.3333333")
    _simple(el, "hidden", 0)
    _simple(el, "idnumber", name)
    if kind == "multichoice":
        _simple(el, "single", "true" if q.type == "single" else "false")
        _simple(el, "shuffleanswers", "true" if q.shuffle else "false")
        _simple(el, "answernumbering", "abc")
        _simple(el, "showstandardinstruction", 0)
        _text_el(el, "correctfeedback", "Your answer is correct.")
        _text_el(el, "partiallycorrectfeedback", "Your answer is partially correct.")
        _text_el(el, "incorrectfeedback", "Your answer is incorrect.")
        k = sum(c.correct for c in inst.choices)
        for c in inst.choices:
            if q.type == "single":
                frac = 100 if c.correct else 0
            else:
                frac = 100 / k if c.correct else -100 / k
            ans = _text_el(el, "answer", _html(c.text))
            ans.set("fraction", _fraction(frac))
            _text_el(ans, "feedback", _html(c.feedback) if c.feedback else "")
    elif kind == "numerical":
        tol = max(q.numeric.tolerance, abs(inst.key) * q.numeric.rel_tolerance)
        ans = _text_el(el, "answer", f"{inst.key:g}", fmt="moodle_auto_format")
        ans.set("fraction", "100")
        _text_el(ans, "feedback", "")
        _simple(ans, "tolerance", f"{tol:g}")
    elif kind == "shortanswer":
        _simple(el, "usecase", 0)
        for phrase in plain_phrases(q):
            ans = _text_el(el, "answer", f"*{phrase}*", fmt="moodle_auto_format")
            ans.set("fraction", "100")
            _text_el(ans, "feedback", "")
    else:
        _simple(el, "responseformat", "editor")
        _simple(el, "responserequired", 1)
        _simple(el, "responsefieldlines", 15 if q.type == "interview" else 5)
        _simple(el, "minwordlimit", q.rubric.min_words or "")
        _simple(el, "maxwordlimit", "")
        _simple(el, "attachments", 0)
        _simple(el, "attachmentsrequired", 0)
        _simple(el, "maxbytes", 0)
        _simple(el, "filetypeslist", "")
        _text_el(el, "graderinfo", grader_info(inst))
        _text_el(el, "responsetemplate", "")
    tags = ET.SubElement(el, "tags")
    for tag in (q.topic, q.difficulty, q.type):
        _text_el(tags, "tag", tag, fmt=None)


def to_moodle_xml(quiz: Quiz, *, n_variants: int = 3) -> str:
    """The quiz as Moodle XML text, one category per topic."""
    root = ET.Element("quiz")
    root.append(ET.Comment(f" {quiz.title} ({quiz.id}), written by dlgrade "))
    for topic in quiz.topics:
        cat = ET.SubElement(root, "question", {"type": "category"})
        _text_el(cat, "category", f"$course$/top/dlgrade/{quiz.id}/{topic}", fmt=None)
        for _, inst, name in named_instances(quiz, topic, n_variants):
            _question(root, inst, name)
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
