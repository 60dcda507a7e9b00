"""The interactive terminal quiz and the notebook API (dlgrade.quiz.take, dlgrade.quiz.session)."""
from __future__ import annotations

import io
import json

from dlgrade.quiz import open_quiz, take

from .conftest import interview, multi, numeric, single, write_quiz


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
    rows = json.loads((tmp_path / "resp.json").read_text())["responses"]
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


def test_saving_keeps_every_attempt_and_the_first_finished_one_counts(tiny_quiz, tmp_path):
    """Does a retake with the same file keep the first attempt (and grade it), adding the second?"""
    path = tmp_path / "class.json"
    first = open_quiz(tiny_quiz, "b")
    expected = _answers_for(first)
    take(tiny_quiz, student="b", stdin=io.StringIO(expected), stdout=io.StringIO(), save=path)
    take(tiny_quiz, student="b", stdin=io.StringIO("\n" * 20), stdout=io.StringIO(), save=path)
    s = open_quiz(tiny_quiz, "a")
    s.answer("q-single", "B")
    s.save(path)
    data = json.loads(path.read_text())
    b_attempts = [a for a in data["attempts"] if a["student_id"] == "b"]
    assert [(a["attempt"], a["finished"], a["counts"]) for a in b_attempts] == [(1, True, True), (2, True, False)]
    assert [r["student_id"] for r in data["responses"]] == ["a", "b"]
    counted = data["responses"][1]["answers"]
    assert all(counted[qid] for qid in counted)          # the full first attempt, not the blank retake


def test_an_unfinished_attempt_is_resumed(tiny_quiz, tmp_path):
    """After end of input, does the next take with the same file ask only the questions left?"""
    path = tmp_path / "r.json"
    lines = _answers_for(open_quiz(tiny_quiz, "r")).splitlines(keepends=True)
    take(tiny_quiz, student="r", stdin=io.StringIO(lines[0]), stdout=io.StringIO(), save=path)
    data = json.loads(path.read_text())
    assert data["attempts"][0]["finished"] is False
    out = io.StringIO()
    session = take(tiny_quiz, student="r", stdin=io.StringIO("".join(lines[1:])), stdout=out, save=path)
    assert "resuming attempt 1: 1 of" in out.getvalue() and "Q1 " not in out.getvalue()
    assert session.score == session.max_points
    data = json.loads(path.read_text())
    assert [(a["attempt"], a["finished"], a["counts"]) for a in data["attempts"]] == [(1, True, True)]


def test_unreadable_input_is_asked_again_without_the_key(tmp_path):
    """Does "two" for a number or "E" on A-C get a new prompt, never a verdict or the key?"""
    path = write_quiz(tmp_path, [single("one"), {k: v for k, v in numeric("num", prompt="What is 2 + 1?", explanation="3.", formula="3").items() if k != "params"}])
    session = open_quiz(path, "typo")
    right = session.paper.instance("one").correct_letters[0]
    out = io.StringIO()
    session = take(path, student="typo", stdin=io.StringIO(f"E\nA,B\n{right}\ntwo\n3\n"), stdout=out)
    text = out.getvalue()
    assert text.count("could not read that") == 3
    assert "Key" not in text.split("could not read that")[1] and "Incorrect" not in text
    assert session.score == 2 and session.finished


def test_saved_file_records_order_and_key_only_for_answered_questions(tmp_path):
    """Is the permutation shown recorded per answered question, and nothing about unanswered ones?"""
    path = write_quiz(tmp_path, [single("one"), single("two")])
    session = open_quiz(path, "perm")
    inst = session.paper.instance("one")
    session.answer("one", inst.correct_letters[0])
    session.save(tmp_path / "r.json")
    attempt = json.loads((tmp_path / "r.json").read_text())["attempts"][0]
    order = attempt["choice_order"]["one"]
    assert sorted(order) == [0, 1, 2] and [inst.question.choices[j] for j in order] == list(inst.choices)
    assert attempt["key"] == {"one": inst.correct_letters[0]} and "two" not in attempt["choice_order"]


def test_optional_follow_ups_get_feedback_but_do_not_count(tmp_path):
    """Is an optional follow-up asked and scored for feedback, but left out of the score, total and missing count?"""
    from dlgrade.quiz import grade

    follow = dict(interview("q-open.extra"), type="short", points=2, optional=True)
    path = write_quiz(tmp_path, [single("one"), interview(follow_ups=[follow])])
    session = open_quiz(path, "opt")
    assert session.max_points == 1 + 5
    fb = session.answer("q-open.extra", "Cats purr while dogs bark loudly.")
    assert fb.points == 2 and not fb.counts and "not counted" in fb.as_text()
    assert session.score == 0
    (tmp_path / "r.json").write_text(json.dumps([{"student_id": "opt", "answers": {"one": "", "q-open": ""}}]))
    report = grade(path, tmp_path / "r.json", out=tmp_path / "out")
    row = report.gradebook.read_text().splitlines()[1].split(",")
    assert row[2] == "6" and row[5] == "2"          # max_points 6; missing: one and q-open, not the optional item
