"""Winnowing: stable hashes, and the guarantee that a long enough shared passage is always seen."""
from __future__ import annotations

import random

from dlgrade.similarity.fingerprint import kgram_hashes, token_hash, winnow, winnow_runs


def test_hashes_are_stable():
    """Is a token's hash the same in every process (reports are deterministic)?"""
    assert token_hash("V") == 398365943571482741  # BLAKE2b, not Python's salted hash()
    assert kgram_hashes(list("abcdef"), 3) == kgram_hashes(list("abcdef"), 3)
    assert kgram_hashes(list("abc"), 3)[0] == kgram_hashes(list("xabc"), 3)[1]


def test_a_shared_passage_of_k_plus_window_minus_one_tokens_shares_a_fingerprint():
    """Does every passage of k + w - 1 tokens found in two documents give both a common fingerprint?"""
    rng = random.Random(0)
    k, w = 5, 4
    for _ in range(200):
        passage = [str(rng.randrange(30)) for _ in range(k + w - 1)]
        a = [str(rng.randrange(30)) for _ in range(rng.randrange(40))] + passage + ["x"] * rng.randrange(5)
        b = ["y"] * rng.randrange(30) + passage + [str(rng.randrange(30)) for _ in range(rng.randrange(40))]
        fa = {h for h, _ in winnow(kgram_hashes(a, k), w)}
        fb = {h for h, _ in winnow(kgram_hashes(b, k), w)}
        assert fa & fb


def test_winnowing_keeps_fewer_hashes_than_kgrams():
    """Does winnowing thin out the k-grams (about 2 / (w + 1) of them)?"""
    tokens = [str(i) for i in range(400)]
    kept = winnow(kgram_hashes(tokens, 5), 4)
    assert 0.25 * 396 < len(kept) < 0.6 * 396


def test_boilerplate_is_removed_before_winnowing():
    """Are skipped hashes never kept, and does a short run between them still keep one?"""
    hashes = [5, 1, 9, 8, 2, 7, 6]
    kept = winnow_runs(hashes, 3, skip={1, 2})
    assert {h for h, _ in kept} <= {5, 9, 8, 7, 6}
    assert any(pos == 0 for _, pos in kept) and any(pos in (2, 3) for _, pos in kept)
