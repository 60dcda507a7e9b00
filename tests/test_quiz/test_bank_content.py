"""Checks over every quiz in the shipped bank, found by discovery (a new quiz is checked the day it lands)."""
from __future__ import annotations

import re

import pytest

from dlgrade.quiz.bank import list_quizzes, quiz_files
from dlgrade.quiz.score import score_response
from dlgrade.quiz.variant import make_instance, make_paper

from .conftest import BANK

QUIZZES = list_quizzes(BANK)
ALL = [(quiz, q) for quiz in QUIZZES for q in quiz.all_questions()]


def test_bank_has_at_least_forty_keyed_questions_of_every_type():
    """Does the bank hold 40+ questions covering all five types?"""
    assert len(quiz_files(BANK)) == len(QUIZZES) >= 3
    assert len(ALL) >= 40
    assert {q.type for _, q in ALL} == {"single", "multi", "numeric", "short", "interview"}


@pytest.mark.parametrize("quiz,question", ALL, ids=[f"{z.id}/{q.id}" for z, q in ALL])
def test_every_question_is_answerable_from_its_own_key(quiz, question):
    """Does feeding each question its own key earn full points (choices, numbers, model answers)?"""
    inst = make_instance(question, 12345)
    if question.type in ("single", "multi"):
        response = ",".join(inst.correct_letters)
    elif question.type == "numeric":
        response = str(inst.key)
    else:
        response = question.model_answer
    fb = score_response(inst, response)
    assert fb.points == pytest.approx(question.points), fb.as_text()
    assert question.source and question.explanation


def test_interview_quiz_has_the_four_deep_dives_with_follow_ups():
    """Are the four deep-dives asked as the lesson asks them, with what goes beyond it in optional follow-ups?"""
    quiz = next(q for q in QUIZZES if q.id == "interview")
    dives = [q for q in quiz.questions if q.type == "interview"]
    assert len(dives) == 4 and all(q.follow_ups for q in dives)
    text = " ".join(q.prompt.lower() for q in dives)
    for needle in ("feature engineering", "gradient boosting", "normalise the inputs", "99%"):
        assert needle in text
    for beyond in ("layer normalisation", "shift"):     # not asked by the lesson's deep-dives
        assert beyond not in text
        follow = [f for q in dives for f in q.follow_ups if beyond in f.prompt.lower()]
        assert follow and all("optional" in f.prompt.lower() for f in follow)


def test_lesson_numbers_are_keys_not_typed_results():
    """Are the lesson's 535,818 / 150,528 / ~150 million keys present, and the variant key computed?"""
    keys = {q.id: q.numeric for _, q in ALL if q.type == "numeric"}
    assert keys["mlp-params-lesson"].value == 535818
    assert keys["image-inputs"].value == 224 * 224 * 3
    assert keys["image-weights"].value == 224 * 224 * 3 * 1000
    variant = next(q for _, q in ALL if q.id == "mlp-params-variant")
    assert variant.numeric.value is None and variant.numeric.formula
    inst = make_instance(variant, 0, values={"h1": 512, "h2": 256})
    assert inst.key == 535818 and "784-512-256-10" in inst.prompt


@pytest.mark.parametrize("quiz", QUIZZES, ids=[q.id for q in QUIZZES])
def test_pools_give_each_student_the_stated_number(quiz):
    """Does every paper contain exactly `draw` questions from each pooled topic?"""
    for student in ("s1", "s2", "s3"):
        paper = make_paper(quiz, student)
        for pool in quiz.pools:
            got = [i for i in paper.instances if i.question.topic == pool.topic and i.question.parent is None]
            assert len(got) == pool.draw


def test_ids_are_unique_across_the_bank():
    """Is each question id used once in the whole bank (responses files name questions by id)?"""
    ids = [q.id for _, q in ALL]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9_.-]*", i) for i in ids)
