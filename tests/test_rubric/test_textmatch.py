"""Text normalisation and phrase matching (dlgrade.rubric.textmatch)."""
from __future__ import annotations

import pytest

from dlgrade.rubric import textmatch as tm


def _find(phrase: str, text: str):
    raw = tm.words(text)
    return tm.find(tm.compile_phrase(phrase), [tm.stem(w) for w in raw], raw)


@pytest.mark.parametrize("a,b", [("normalises", "normalization"), ("normalizing", "normalised"),
                                 ("layers", "layer"), ("features", "feature"), ("probabilities", "probability"),
                                 ("biases", "bias"), ("learned", "learning")])
def test_inflections_share_a_stem(a, b):
    """Do plural, -ing/-ed and British/American spellings reduce to the same stem?"""
    assert tm.stem(a) == tm.stem(b)


def test_case_punctuation_and_thousands_separators_are_ignored():
    """Is 'End-to-End!' the same as 'end to end', and 535,818 one token?"""
    assert tm.words("End-to-End! 535,818") == ["end", "to", "end", "535818"]


def test_phrase_allows_small_gaps_but_not_large_ones():
    """Does 'learn features' match 'learns the useful features' but not words far apart?"""
    assert _find("learn features", "the network learns the useful features")
    assert not _find("learn features", "we learn a lot about many different kinds of useful features")


def test_alternatives_and_prefixes():
    """Do 'a|b' alternatives and a trailing * prefix match as documented?"""
    assert _find("learn|extract features", "it extracts features")
    assert _find("regulari*", "Regularization helps")
    assert not _find("regulari*", "regular season")


def test_negated_mentions_do_not_match_unless_the_phrase_is_negated():
    """Is 'not linearly separable' kept apart from 'linearly separable'?"""
    assert not _find("linearly separable", "XOR is not linearly separable")
    assert _find("not linearly separable", "XOR is not linearly separable")
    assert _find("overfit*", "the model overfits badly")
    assert not _find("overfit*", "the model doesn't overfit")


def test_malformed_phrases_are_rejected():
    """Are empty phrases and multi-word alternatives refused with ValueError?"""
    with pytest.raises(ValueError):
        tm.compile_phrase("  ,  ")
    with pytest.raises(ValueError):
        tm.compile_phrase("batch|mini-batch norm")
