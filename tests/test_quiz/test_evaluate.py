"""Rubric grading against human scores on the labelled set (dlgrade.quiz.evaluate)."""
from __future__ import annotations

import pytest

from dlgrade.errors import SpecError
from dlgrade.quiz.bank import list_quizzes
from dlgrade.quiz.evaluate import CATEGORIES, band, evaluate_rubrics, load_labelled

from .conftest import BANK

LABELLED = BANK / "rubric-eval" / "labelled.yaml"
TARGET_MAE = 0.10
"""Mean absolute error, as a share of each question's points, over the whole labelled set."""
TARGET_BANDS = 0.85
"""Share of answers whose automatic band (low/mid/high third) equals the human band."""


@pytest.fixture(scope="module")
def agreement():
    return evaluate_rubrics(LABELLED, bank=BANK)


def test_labelled_set_is_large_and_covers_every_category_and_split():
    """Does the set hold 100+ answers, with strong/partial/wrong/off-topic/stuffed and both splits?"""
    items = load_labelled(LABELLED)
    assert len(items) >= 100
    assert {i.category for i in items} == set(CATEGORIES)
    assert {i.split for i in items} == {"dev", "holdout"}
    assert sum(i.category == "stuffed" for i in items) >= 10


def test_keyword_rubrics_agree_with_human_scores(agreement):
    """Over 100+ labelled answers, is MAE below 10% of the points and band agreement at least 85%?"""
    print("\n" + agreement.as_markdown())
    assert agreement.n >= 100
    assert agreement.mae_fraction < TARGET_MAE
    assert agreement.band_agreement >= TARGET_BANDS
    # no question is far off on its own (a floor against regressions; the targets are for the whole set)
    for qid, sub in agreement.by("question").items():
        if sub.n >= 10:
            assert sub.mae_fraction < 0.15, qid
    assert agreement.by("split")["holdout"].band_agreement >= 0.75


def test_stuffed_and_off_topic_answers_earn_little_and_stuffing_is_flagged(agreement):
    """On questions that ask for an explanation, do keyword stuffing (lists or empty sentences) and
    off-topic answers earn at most 30%, with every stuffed answer flagged for review?"""
    claims = {q.id: bool(q.rubric and q.rubric.claims) for quiz in list_quizzes(BANK) for q in quiz.all_questions()}
    checked = 0
    for s in agreement.scored:
        if s.item.category == "off-topic":
            assert s.auto <= 0.3 * s.max_points, s.item.answer
        if s.item.category == "stuffed" and claims[s.item.question]:
            assert s.auto <= 0.3 * s.max_points and s.needs_review, s.item.answer
            checked += 1
    assert checked >= 8


def test_bands_are_thirds_of_the_points():
    """Are 1/5 low, 2/5 and 3/5 mid, 4/5 high?"""
    assert [band(p, 5) for p in (0, 1, 2, 3, 4, 5)] == ["low", "low", "mid", "mid", "high", "high"]


def test_labelled_items_must_name_real_open_questions(tmp_path):
    """Is an item naming a missing or non-open question an error naming the item?"""
    path = tmp_path / "l.yaml"
    path.write_text("quiz: concepts\nitems:\n  - {question: conv-params, answer: x, human: 1, category: wrong, "
                    "split: dev}\n")
    with pytest.raises(SpecError, match=r"items\[0\].question"):
        evaluate_rubrics(path, bank=BANK)
