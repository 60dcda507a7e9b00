"""Groups of submissions linked by flagged pairs (connected components)."""
from __future__ import annotations

from collections.abc import Iterable


def clusters(pairs: Iterable[tuple[int, int]], *, min_size: int = 3) -> list[list[int]]:
    """Connected components of at least ``min_size`` members, each sorted, largest first."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[int]] = {}
    for x in parent:
        groups.setdefault(find(x), []).append(x)
    out = [sorted(g) for g in groups.values() if len(g) >= min_size]
    return sorted(out, key=lambda g: (-len(g), g))
