"""Exports: GIFT parsed back, Moodle XML structure, QTI zip structure, Markdown/HTML keys (dlgrade.quiz.exporters)."""
from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile

import pytest

from dlgrade.errors import DlgradeError
from dlgrade.quiz.bank import list_quizzes, load_quiz
from dlgrade.quiz.exporters import FORMATS, export, render
from dlgrade.quiz.exporters.gift import escape

from .conftest import BANK, multi, numeric, single, write_quiz
from .gift_reader import read_gift

QUIZZES = list_quizzes(BANK)
IDS = [q.id for q in QUIZZES]


def test_gift_escaping_round_trips_reserved_characters():
    """Do ~ = # { } : and backslashes survive escape + Moodle-style parsing?"""
    text = r"a~b=c#d{e}f:g\h" + "\nnext"
    parsed = read_gift(f"::n::{escape(text)}{{}}")
    assert parsed[0]["text"] == text and parsed[0]["qtype"] == "essay"
    parsed = read_gift(f"::{escape(text)}::Q{{={escape(text)}#{escape(text)} ~other}}")
    assert parsed[0]["name"] == text and parsed[0]["answers"][0] == (text, 1.0, text)


@pytest.mark.parametrize("quiz", QUIZZES, ids=IDS)
def test_gift_parses_back_to_the_same_questions_and_keys(quiz):
    """Does every question come back from our GIFT with its type, category and key?"""
    parsed = {q["name"]: q for q in read_gift(render(quiz, "gift").decode())}
    for question in quiz.all_questions():
        names = [n for n in parsed if n == question.id or n.startswith(question.id + "-v")]
        assert names, question.id
        q = parsed[names[0]]
        assert q["category"].endswith(f"/{quiz.id}/{question.topic}") and q["format"] == "markdown"
        if question.type == "single":
            assert q["qtype"] == "multichoice" and q["single"]
            assert [a[0] for a in q["answers"] if a[1] == 1.0] == [c.text for c in question.choices if c.correct]
        elif question.type == "multi":
            assert q["qtype"] == "multichoice" and not q["single"]
            right = [a for a in q["answers"] if a[1] > 0]
            assert {a[0] for a in right} == {c.text for c in question.choices if c.correct}
            assert sum(a[1] for a in right) == pytest.approx(1.0, abs=1e-6)
        elif question.type == "numeric":
            assert q["qtype"] == "numerical"
            if not question.params:
                assert q["answers"][0][0] == pytest.approx(question.numeric.value)
        else:
            assert q["qtype"] in ("essay", "shortanswer")
            assert question.model_answer.split()[0] in q["generalfeedback"]


def test_parameterised_questions_export_distinct_variants_with_computed_keys(tmp_path):
    """Are several fixed variants written, each with the key of its own values?"""
    quiz = load_quiz(write_quiz(tmp_path, [numeric()]))
    parsed = read_gift(render(quiz, "gift", n_variants=3).decode())
    assert [q["name"] for q in parsed] == ["q-num-v1", "q-num-v2", "q-num-v3"]
    for q in parsed:
        a, b = [int(x) for x in q["text"].split("What is ")[1].rstrip("?").split(" + ")]
        assert q["answers"][0][0] == a + b
    assert len({q["text"] for q in parsed}) == 3


@pytest.mark.parametrize("quiz", QUIZZES, ids=IDS)
def test_moodle_xml_has_moodle_structure_and_keeps_rubrics(quiz):
    """Is the XML well formed, with categories, typed questions, fractions, and rubrics as grader info?"""
    root = ET.fromstring(render(quiz, "moodle-xml"))
    assert root.tag == "quiz"
    questions = [q for q in root.findall("question") if q.get("type") != "category"]
    cats = [q.findtext("category/text") for q in root.findall("question[@type='category']")]
    assert cats == [f"$course$/top/dlgrade/{quiz.id}/{t}" for t in quiz.topics]
    by_name = {q.findtext("name/text"): q for q in questions}
    for question in quiz.all_questions():
        el = by_name.get(question.id) or by_name[question.id + "-v1"]
        assert el.findtext("questiontext/text") and el.find("questiontext").get("format") == "html"
        if question.type in ("single", "multi"):
            assert el.get("type") == "multichoice"
            assert el.findtext("single") == ("true" if question.type == "single" else "false")
            total = sum(float(a.get("fraction")) for a in el.findall("answer") if float(a.get("fraction")) > 0)
            assert total == pytest.approx(100, abs=1e-3)
        elif question.type == "numeric":
            assert el.get("type") == "numerical" and el.find("answer/tolerance") is not None
        elif question.type == "interview":
            info = el.findtext("graderinfo/text")
            assert el.get("type") == "essay"
            for kp in question.rubric.key_points:
                assert kp.title.split()[0] in info
            assert "Model answer" in info


@pytest.mark.parametrize("quiz", QUIZZES, ids=IDS)
def test_qti_zip_has_manifest_and_assessment_that_parse(quiz):
    """Is the QTI export a zip with imsmanifest.xml pointing at an assessment with every question?"""
    data = render(quiz, "qti")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        assert "imsmanifest.xml" in names
        manifest = ET.fromstring(zf.read("imsmanifest.xml"))
        hrefs = [el.get("href") for el in manifest.iter() if el.get("href")]
        assert hrefs and all(h in names for h in hrefs)
        assessment_name = next(n for n in names if n.endswith(".xml") and "assessment_meta" not in n
                               and n != "imsmanifest.xml")
        assessment = ET.fromstring(zf.read(assessment_name))
    items = [el for el in assessment.iter() if el.tag.endswith("item")]
    titles = {el.get("title") for el in items}
    for question in quiz.all_questions():
        assert question.id in titles or f"{question.id}-v1" in titles
    assert render(quiz, "qti") == data    # fixed timestamps: byte-identical


def test_qti_pool_becomes_a_group_with_pick(tmp_path):
    """Does a pool become a text2qti group that picks N questions?"""
    from dlgrade.quiz.exporters.qti import to_text2qti

    quiz = load_quiz(write_quiz(tmp_path, [single("a"), single("b"), single("c")], pools=[{"topic": "t", "draw": 2}]))
    assert "GROUP\npick: 2\npoints per question: 1" in to_text2qti(quiz)


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_student_version_has_no_answers(tmp_path, fmt):
    """Does the student sheet omit keys, explanations and model answers that the instructor key shows?"""
    quiz = load_quiz(write_quiz(tmp_path, [single(explanation="SECRET-EXPLANATION"), multi()]))
    key = render(quiz, fmt).decode()
    sheet = render(quiz, fmt, student=True).decode()
    assert "SECRET-EXPLANATION" in key and "[x]" in key and "Key:" in key
    assert "SECRET-EXPLANATION" not in sheet and "[x]" not in sheet and "Key:" not in sheet
    assert "Pick the second." in sheet


def test_export_writes_default_path_atomically_and_rejects_bad_options(tmp_path, monkeypatch):
    """Does export write each format to its default file, and refuse unknown formats or --student for LMS formats?"""
    monkeypatch.chdir(tmp_path)
    quiz = load_quiz(write_quiz(tmp_path, [single()]))
    for fmt, suffix in FORMATS.items():
        path = export(quiz, format=fmt)
        assert path.name == f"tiny{suffix}" and path.stat().st_size > 0
    with pytest.raises(DlgradeError, match="unknown export format"):
        export(quiz, format="pdf")
    with pytest.raises(DlgradeError, match="--student"):
        export(quiz, format="gift", student=True)
    assert not list(tmp_path.rglob("*.tmp"))
