"""Written answers as word shingles."""
from __future__ import annotations

from dlgrade.similarity.shingle_text import shingles, vocabulary


def test_case_punctuation_and_plurals_do_not_matter():
    """Do a copy's changed case, punctuation and plural endings give the same shingles?"""
    a = shingles("Stacked affine maps collapse; the boundary stays straight.")
    b = shingles("stacked AFFINE map collapse, the boundaries stay straight!!")
    assert set(a) == set(b) and a


def test_the_prompts_words_are_not_counted():
    """Are the question's own words left out, so two answers that restate it share nothing?"""
    prompt = vocabulary("Why can no stack of Linear layers solve XOR?")
    a = shingles("No stack of linear layers can solve XOR because curved regions appear", exclude=prompt)
    b = shingles("A stack of linear layers cannot solve XOR: the model needs bent features", exclude=prompt)
    assert not set(a) & set(b)


def test_shingles_point_at_the_original_words():
    """Do the spans of a shingle cover its words in the original text (for highlighting)?"""
    text = "Hidden units bend the plane"
    spans = shingles(text)["hidden unit bend"]
    assert [text[s:e] for s, e in spans] == ["Hidden", "units", "bend"]
