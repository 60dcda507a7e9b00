"""k-gram fingerprints with winnowing (Schleimer, Wilkerson and Aiken, SIGMOD 2003; what MOSS does).

Every run of ``k`` consecutive tokens is hashed; in each window of ``window``
consecutive hashes the smallest is kept (the rightmost on ties). Any passage
shared by two documents that is at least ``k + window - 1`` tokens long shares
at least one kept hash, and the number of hashes kept is about
``2 / (window + 1)`` of the tokens, so long documents stay cheap to compare.

Hashes are stable across processes and machines (BLAKE2b of each token, then a
polynomial rolling hash), so reports are deterministic.
"""
from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence

_MASK = (1 << 61) - 1
_BASE = 1_000_003


@functools.lru_cache(maxsize=65536)
def token_hash(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big") & _MASK


def kgram_hashes(tokens: Sequence[str], k: int) -> list[int]:
    """The hash of each run of ``k`` tokens, in order (``len(tokens) - k + 1`` of them; one when shorter)."""
    if not tokens:
        return []
    if len(tokens) <= k:
        k = len(tokens)
    values = [token_hash(t) for t in tokens]
    top = pow(_BASE, k - 1, _MASK)
    h = 0
    for v in values[:k]:
        h = (h * _BASE + v) % _MASK
    out = [h]
    for i in range(k, len(values)):
        h = ((h - values[i - k] * top) * _BASE + values[i]) % _MASK
        out.append(h)
    return out


def winnow(hashes: Sequence[int], window: int) -> list[tuple[int, int]]:
    """``(hash, position)`` kept by winnowing, in order; each position once."""
    if len(hashes) <= window:
        if not hashes:
            return []
        pos = min(range(len(hashes)), key=lambda i: (hashes[i], -i))
        return [(hashes[pos], pos)]
    out: list[tuple[int, int]] = []
    last = -1
    for start in range(len(hashes) - window + 1):
        best = start
        for i in range(start + 1, start + window):
            if hashes[i] <= hashes[best]:
                best = i
        if best != last:
            out.append((hashes[best], best))
            last = best
    return out


def winnow_runs(hashes: Sequence[int], window: int, skip: set[int] | frozenset[int] = frozenset()
                ) -> list[tuple[int, int]]:
    """:func:`winnow` applied to each run of hashes not in ``skip`` (boilerplate removed first).

    Winnowing what is left after the template's and the reference's k-grams are
    dropped keeps at least one fingerprint per ``window`` k-grams of a
    student's own code, however short: a one-line change still leaves a few.
    """
    out: list[tuple[int, int]] = []
    start = 0
    for end in range(len(hashes) + 1):
        if end == len(hashes) or hashes[end] in skip:
            if end > start:
                out += [(h, start + pos) for h, pos in winnow(hashes[start:end], window)]
            start = end + 1
    return out
