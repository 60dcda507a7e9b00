"""The interactive terminal quiz and the notebook API (dlgrade.quiz.take, dlgrade.quiz.session)."""
from __future__ import annotations

import io
import json

from dlgrade.quiz import open_quiz, take

from .conftest import multi, single, write_quiz


def _answers_for(session):
    """Correct answers for a session's paper, as a student would type them."""
    out = []
    for i in session.paper.instances:
        q = i.question
        if q.type in ("single", "multi"):
            out.append(",".join(i.correct_letters))
        elif q.type == "numeric":
            out.append(str(i.key))
        else:
            out.append(q.model_answer + "\n")   # interview answers end with an empty line
    return "\n".join(out) + "\n"


def test_take_runs_one_question_at_a_time_with_feedback_and_final_score(tiny_quiz, tmp_path):
    """Driven by streams, does take show each question, its feedback, the score, and save responses?"""
    expected = open_quiz(tiny_quiz, "stu-1")
    out = io.StringIO()
    session = take(tiny_quiz, student="stu-1", stdin=io.StringIO(_answers_for(expected)), stdout=out,
                   save=tmp_path / "resp.json")
    text = out.getvalue()
    assert session.score == session.max_points == 11
    assert text.count("Explanation:") == 5 and "11/11 points" in text
    rows = json.loads((tmp_path / "resp.json").read_text())
    assert rows[0]["student_id"] == "stu-1" and set(rows[0]["answers"]) == {i.id for i in session.paper.instances}


def test_end_of_input_leaves_the_rest_unanswered(tiny_quiz):
    """Does EOF after one answer stop cleanly with the remaining questions unanswered?"""
    out = io.StringIO()
    session = take(tiny_quiz, student="s", stdin=io.StringIO("A\n"), stdout=out)
    assert len(session.feedback) == 1 and "end of input" in out.getvalue()


def test_notebook_api_answers_by_id_and_renders_html(tmp_path):
    """Can a notebook ask/answer by question id, get Feedback with HTML, and see the total?"""
    path = write_quiz(tmp_path, [single("one"), multi("two")])
    quiz = open_quiz(path, student="nb-student")
    view = quiz.ask()
    assert view.instance.id == "one" and "<b>Q1</b>" in view._repr_html_()
    letter = quiz.paper.instance("one").correct_letters[0]
    fb = quiz.answer("one", letter)
    assert fb.points == 1 and "Correct" in fb._repr_html_()
    assert quiz.ask().instance.id == "two" and quiz.score == 1 and "nb-student" in quiz._repr_html_()


def test_saving_twice_replaces_the_students_row_and_keeps_others(tiny_quiz, tmp_path):
    """Does save() update one student's row in a shared responses file atomically?"""
    path = tmp_path / "class.json"
    for sid, answer in (("b", "A"), ("a", "B"), ("b", "C")):
        s = open_quiz(tiny_quiz, sid)
        s.answer("q-single", answer)
        s.save(path)
    rows = json.loads(path.read_text())
    assert [r["student_id"] for r in rows] == ["a", "b"] and rows[1]["answers"]["q-single"] == "C"
