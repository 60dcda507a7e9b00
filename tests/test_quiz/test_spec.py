"""Loading and validating quiz files (dlgrade.quiz.spec, dlgrade.quiz.bank)."""
from __future__ import annotations

import pytest

from dlgrade.errors import SpecError
from dlgrade.quiz.bank import list_quizzes, load_quiz, resolve_quiz

from .conftest import interview, multi, numeric, single, write_quiz


def test_tiny_quiz_loads_with_follow_ups_after_their_parent(tiny_quiz):
    """Does a valid file give a Quiz whose all_questions puts follow-ups right after the parent?"""
    quiz = load_quiz(tiny_quiz)
    assert [q.id for q in quiz.all_questions()] == ["q-single", "q-multi", "q-num", "q-open", "q-open.f1"]
    assert quiz.question("q-open.f1").parent == "q-open"
    assert quiz.question("q-open").points == 5 and quiz.question("q-single").points == 1


@pytest.mark.parametrize("question,field", [
    (single(difficulty="trivial"), "difficulty"),
    (single(choices=[{"text": "a", "correct": True}, {"text": "b", "correct": True}]), "exactly one correct"),
    (multi(choices=[{"text": "a"}, {"text": "b"}]), "at least one correct"),
    (single(explanation=""), "explanation"),
    (single(source=None), "source"),
    (single(colour="red"), "colour"),
    (numeric(formula="a + c"), "formula"),
    (numeric(formula="a +"), "formula"),
    (numeric(prompt="What is {a} + {z}?"), "prompt"),
    (numeric(answer=3), "answer"),
    (interview(model_answer=None), "model_answer"),
    (interview(rubric={"key_points": [{"id": "k", "phrases": ["two pets"]}]}), "echo rule"),
    (dict(single(), type="essay"), "type"),
    (single(optional=True), "optional"),
    (interview(follow_ups=[dict(interview("q-open.f"), optional="yes")]), "optional"),
    (interview(rubric={"claims": "yes", "key_points": [{"id": "k", "phrases": ["purr"]}]}), "claims"),
])
def test_invalid_questions_name_file_question_and_field(tmp_path, question, field):
    """Does each mistake raise SpecError with the file, the question id and the field?"""
    path = write_quiz(tmp_path, [question])
    with pytest.raises(SpecError) as err:
        load_quiz(path)
    message = str(err.value)
    assert str(path) in message and question["id"] in message and field in message


def test_duplicate_ids_and_bad_pools_are_rejected(tmp_path):
    """Are a repeated id, a pool on an unknown topic and an oversized draw refused?"""
    with pytest.raises(SpecError, match="used twice"):
        load_quiz(write_quiz(tmp_path, [single("a"), single("a")]))
    with pytest.raises(SpecError, match="no question has topic"):
        load_quiz(write_quiz(tmp_path, [single("a")], pools=[{"topic": "zz", "draw": 1}]))
    with pytest.raises(SpecError, match="draw"):
        load_quiz(write_quiz(tmp_path, [single("a")], pools=[{"topic": "t", "draw": 2}]))


def test_bad_yaml_and_missing_file_are_clear(tmp_path):
    """Do a syntax error and a missing file give one-line SpecErrors naming the file?"""
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nquestions: [\n")
    with pytest.raises(SpecError, match=r"bad\.yaml: not valid YAML \(line"):
        load_quiz(bad)
    with pytest.raises(SpecError, match="not found"):
        load_quiz(tmp_path / "nope.yaml")


def test_quizzes_resolve_by_id_or_path_and_unknown_ids_list_the_known(tiny_quiz):
    """Can a quiz be named by id within a bank or by path, and does a typo list the known ids?"""
    assert resolve_quiz("tiny", bank=tiny_quiz.parent).id == "tiny"
    assert resolve_quiz(str(tiny_quiz)).id == "tiny"
    with pytest.raises(SpecError) as err:
        resolve_quiz("tiyn", bank=tiny_quiz.parent)
    assert "tiny" in err.value.hint
    assert [q.id for q in list_quizzes(tiny_quiz.parent)] == ["tiny"]
