"""Rubric grading against human scores on the labelled set (dlgrade.quiz.evaluate)."""
from __future__ import annotations

import pytest

from dlgrade.errors import SpecError
from dlgrade.quiz.evaluate import CATEGORIES, band, evaluate_rubrics, load_labelled

from .conftest import BANK

LABELLED = BANK / "rubric-eval" / "labelled.yaml"


def test_labelled_set_is_large_and_covers_every_category_and_split():
    """Does the set hold 60+ answers, with strong/partial/wrong/off-topic/stuffed and both splits?"""
    items = load_labelled(LABELLED)
    assert len(items) >= 60
    assert {i.category for i in items} == set(CATEGORIES)
    assert {i.split for i in items} == {"dev", "holdout"}


def test_keyword_rubrics_agree_with_human_scores():
    """Is the baseline within the agreement documented in docs/quizzes.md (MAE <= 12% of points, bands >= 80%)?"""
    agreement = evaluate_rubrics(LABELLED, bank=BANK)
    assert agreement.n >= 60
    assert agreement.mae_fraction <= 0.12
    assert agreement.band_agreement >= 0.80
    holdout = agreement.by("split")["holdout"]
    assert holdout.band_agreement >= 0.75
    # answers that merely repeat the question, off-topic answers and keyword lists never earn much
    for s in agreement.scored:
        if s.item.category in ("off-topic", "stuffed"):
            assert s.auto <= 0.3 * s.max_points


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
