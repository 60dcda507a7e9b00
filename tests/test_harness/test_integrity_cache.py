"""The integrity check's cache of code texts (``integrity._CODE_TEXT``), filled before the worker forks."""
from __future__ import annotations

from dlgrade.harness import integrity, values


def test_code_swapped_after_the_cache_is_filled_changes_the_fingerprint():
    """With every watched function's code already described, does giving one of them other code
    (in place, as a notebook could) still change its fingerprint, and restoring it restore it?"""
    before = integrity.fingerprints()
    assert integrity._CODE_TEXT                      # filled by the first call
    name = "dlgrade.harness.values.encode"
    original = values.encode.__code__

    def forged(value, store, register=None, _depth=0):
        return value

    try:
        values.encode.__code__ = forged.__code__
        after = integrity.fingerprints()
    finally:
        values.encode.__code__ = original
    assert after[name] != before[name]
    assert integrity.compare(after, before) == [name]
    assert integrity.fingerprints() == before
