"""Exports: GIFT parsed back, Moodle XML structure, QTI zip structure, Markdown/HTML keys (dlgrade.quiz.exporters)."""
from __future__ import annotations

import io
import re
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
        if question.optional:                 # not counted, so not in a graded Canvas quiz
            assert question.id not in titles
            continue
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


def _sheet_key_letters(sheet: str, quiz) -> list[str]:
    """The letter of each single-choice question's correct option in a Markdown sheet, read from the text."""
    right = {q.id: next(c.text for c in q.choices if c.correct) for q in quiz.all_questions() if q.type == "single"}
    letters, current = [], None
    for line in sheet.splitlines():
        m = re.match(r"### [\d.]+\. `([^`]+)`", line)
        if m:
            current = m.group(1)
            continue
        m = re.match(r"- (?:\[ \] |\*\*\[x\]\*\* )?([A-Z])\) (.*)", line)
        if m and current in right and m.group(2) == right[current]:
            letters.append(m.group(1))
    return letters


def test_student_handout_spreads_the_keys_over_the_letters(tmp_path):
    """In `quiz export concepts --format markdown --student`, is the key no longer always at A?"""
    from collections import Counter

    from typer.testing import CliRunner

    import dlgrade.cli.quiz  # noqa: F401  (registers `dlgrade quiz`)
    from dlgrade.cli import app

    out = tmp_path / "sheet.md"
    result = CliRunner().invoke(app, ["quiz", "export", "concepts", "--format", "markdown", "--student",
                                      "-o", str(out), "--bank", str(BANK)])
    assert result.exit_code == 0, result.output
    quiz = load_quiz(BANK / "concepts.yaml")
    letters = _sheet_key_letters(out.read_text(), quiz)
    counts = Counter(letters)
    print(f"\nkeys per letter in the concepts handout ({len(letters)} single-choice questions): "
          + ", ".join(f"{k}: {counts[k]}" for k in sorted(counts)))
    n_single = sum(q.type == "single" for q in quiz.all_questions())
    assert len(letters) == n_single >= 10
    assert max(counts.values()) <= -(-n_single // 4) + 1 and len(counts) >= 4
    key = render(quiz, "markdown").decode()          # the instructor's key has the same order as the sheet
    assert _sheet_key_letters(key, quiz) == letters


@pytest.mark.parametrize("quiz", QUIZZES, ids=IDS)
def test_lms_exports_do_not_put_every_key_at_a(quiz):
    """Do GIFT, Moodle XML and QTI write the single-choice keys at several letters (and set shuffle flags)?"""
    singles = [q for q in quiz.all_questions() if q.type == "single" and q.shuffle]
    if len(singles) < 4:
        pytest.skip("too few single-choice questions to count")
    parsed = read_gift(render(quiz, "gift").decode())
    positions = [next(i for i, a in enumerate(q["answers"]) if a[1] == 1.0) for q in parsed if q["qtype"] ==
                 "multichoice" and q["single"]]
    assert len(set(positions)) >= 3
    root = ET.fromstring(render(quiz, "moodle-xml"))
    assert {el.text for el in root.iter("shuffleanswers")} == {"true"}
    from dlgrade.quiz.exporters.qti import to_text2qti
    assert "Shuffle answers: true" in to_text2qti(quiz)
    first_letters = re.findall(r"^\*([a-z])\)", to_text2qti(quiz), flags=re.M)
    assert len(set(first_letters)) >= 3


@pytest.mark.parametrize("quiz", QUIZZES, ids=IDS)
def test_qti_points_possible_is_what_a_student_can_earn(quiz):
    """Does assessment_meta.xml's points_possible equal the total of one student's quiz (not every pooled item)?"""
    from dlgrade.quiz.variant import make_paper

    with zipfile.ZipFile(io.BytesIO(render(quiz, "qti"))) as zf:
        meta = next(zf.read(n).decode() for n in zf.namelist() if n.endswith("assessment_meta.xml"))
    values = {float(v) for v in re.findall(r"<points_possible>([^<]*)</points_possible>", meta)}
    assert values == {make_paper(quiz, "anyone").max_points} == {make_paper(quiz, "someone-else").max_points}


@pytest.mark.parametrize("quiz", QUIZZES, ids=IDS)
def test_gift_carries_points_per_question_and_the_quiz_total(quiz):
    """Does each GIFT question carry its points (a comment Moodle users set slot marks from) and the file the total?"""
    from dlgrade.quiz.variant import make_paper

    text = render(quiz, "gift").decode()
    total = make_paper(quiz, "anyone").max_points
    assert f"a student's quiz is worth {total:g} points" in text
    points = re.findall(r"^// points: ([\d.]+)[^|\n]* \|.*\n::([^:]+)::", text, flags=re.M)
    by_id = {q.id: 0 if q.optional else q.points for q in quiz.all_questions()}
    assert len(points) == len(read_gift(text))
    for value, name in points:
        assert float(value) == by_id[re.sub(r"-v\d+$", "", name)]


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_answer_keys_show_rubric_wildcards_literally(fmt):
    """Do rubric phrases like `exist*; ... learnab*` stay literal instead of turning into italics?"""
    import markdown as md

    quiz = load_quiz(BANK / "interview.yaml")
    text = render(quiz, fmt).decode()
    page = text if fmt == "html" else md.markdown(text, extensions=["tables"])
    cells = re.findall(r"<td>(.*?)</td>", page)
    assert cells and not any("<em>" in c or "<strong>" in c for c in cells)
    assert any("memori*" in c for c in cells) and any("|" in c for c in cells)


def test_student_id_handout_is_that_students_take_order(tmp_path):
    """Does `--student-id` give the sheet (and key) in exactly the order `quiz take` shows that student?"""
    from dlgrade.quiz import open_quiz

    quiz = load_quiz(BANK / "concepts.yaml")
    session = open_quiz(quiz, "s-42")
    sheet = render(quiz, "markdown", student=True, student_id="s-42").decode()
    for inst in session.paper.instances:
        if inst.choices:
            block = sheet.split(f"`{inst.id}`")[1].split("###")[0]
            shown = re.findall(r"^- ([A-Z])\) (.*)$", block, flags=re.M)
            assert shown == [(chr(65 + i), c.text) for i, c in enumerate(inst.choices)]
    assert sheet.count("### ") == len(session.paper.instances)
    key = render(quiz, "markdown", student_id="s-42").decode()
    assert _sheet_key_letters(key, quiz) == _sheet_key_letters(sheet, quiz)
    with pytest.raises(DlgradeError, match="--student-id"):
        render(quiz, "gift", student_id="s-42")
