"""Which cell of a student's notebook is which cell of the exercise's template.

Roles (setup, answer, check, train, short answer) come from the template, so
the grader must know which student cell stands for which template cell. In
order:

1. **by id**: nbformat 4.5 cells keep the template's ids;
2. **by content**: a cell whose source equals an unmatched template cell's
   (an untouched check, training or Markdown cell);
3. **by similarity and position**, between the cells matched so far: cells of
   the same type are aligned in order, preferring similar sources (token
   overlap). A student cell takes a locked or skipped role (setup, check,
   train) only when its source is similar to the template's; an answer or
   a short answer may be matched by position alone.

Steps 2 and 3 matter for notebooks whose cells have no ids (nbformat 4.4,
nbformat 3, or cells re-created by an editor). The match is a pure function of
the two notebooks: the same notebook is always matched the same way.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

SIMILAR = 0.3
"""Token overlap (Jaccard) a cell needs to take a locked or skipped role without its id."""
STRONG = 0.5
"""Token overlap that counts as recognising the template cell (see :attr:`CellMatch.coverage`)."""
_POSITIONAL_ROLES = (None, "answer", "short_answer")
_MAX_PAIRS = 200_000
"""Above this many (student cell, template cell) pairs in one gap, cells are aligned by position only."""
_TOKEN = re.compile(r"\w+|[^\w\s]")
_CHECK_ONLY = re.compile(r"""\A\s*(?:check\(\s*(?:"[^"\n]*"|'[^'\n]*')?\s*\)\s*;?\s*(?:#[^\n]*)?\s*)+\Z""")


def _role(cell) -> str | None:
    meta = cell.get("metadata")
    meta = meta.get("dlgrade") if isinstance(meta, dict) else None
    return meta.get("role") if isinstance(meta, dict) else None


def _tokens(source: str) -> frozenset:
    return frozenset(_TOKEN.findall(source[:20_000]))


def similarity(a: frozenset, b: frozenset) -> float:
    """Jaccard overlap of two token sets (0 when both are empty)."""
    return len(a & b) / len(a | b) if a or b else 0.0


def is_check_call(source: str) -> bool:
    """A cell that only calls ``check("q1")`` (the public self-check), whatever its id."""
    return bool(_CHECK_ONLY.match(source)) and "check" in source


@dataclass
class CellMatch:
    """Student cell index -> template cell index, and how each pair was found."""

    pairs: dict[int, int] = field(default_factory=dict)
    how: dict[int, str] = field(default_factory=dict)
    """Student cell index -> "id", "content", "similar" or "position"."""
    roled: int = 0
    """Template cells with a role."""
    recognised: int = 0
    """Template cells with a role matched by id, equal content or a similar source."""
    without_ids: int = 0
    """Student cells that have no id at all (nbformat 4.4 and older)."""

    @property
    def by_id_only(self) -> bool:
        return all(h == "id" for h in self.how.values())

    @property
    def coverage(self) -> float:
        """The share of the template's roled cells recognised in the notebook (1.0 when none has a role)."""
        return self.recognised / self.roled if self.roled else 1.0


def match_cells(nb, template) -> CellMatch:
    """Match the cells of ``nb`` to those of ``template`` by the rules in the module docstring."""
    cells, tcells = nb.cells, template.cells
    match = CellMatch(without_ids=sum(not cell.get("id") for cell in cells))
    t_by_id = {c.get("id"): j for j, c in enumerate(tcells) if c.get("id")}
    for i, cell in enumerate(cells):
        j = t_by_id.get(cell.get("id"))
        if j is not None and j not in match.pairs.values():
            match.pairs[i], match.how[i] = j, "id"
    if len(match.pairs) < len(tcells):
        _match_content(cells, tcells, match)
        _match_gaps(cells, tcells, match)
    roled = [j for j, c in enumerate(tcells) if _role(c)]
    strong = {j for i, j in match.pairs.items() if match.how[i] in ("id", "content", "similar")}
    match.roled, match.recognised = len(roled), len(strong.intersection(roled))
    return match


def _match_content(cells, tcells, match: CellMatch) -> None:
    free = {}
    taken = set(match.pairs.values())
    for j, t in enumerate(tcells):
        key = (t.cell_type, t.source.strip())
        if j not in taken and key[1]:
            free.setdefault(key, []).append(j)
    for i, cell in enumerate(cells):
        if i in match.pairs:
            continue
        js = free.get((cell.cell_type, cell.source.strip()))
        if js:
            match.pairs[i], match.how[i] = js.pop(0), "content"


def _anchors(match: CellMatch) -> list[tuple[int, int]]:
    """The longest chain of pairs in the same order in both notebooks."""
    pairs = sorted(match.pairs.items())
    best: list[list[tuple[int, int]]] = []
    for p in pairs:
        chain = max((c for c in best if c[-1][1] < p[1]), key=len, default=[])
        best.append(chain + [p])
    return max(best, key=len, default=[])


def _match_gaps(cells, tcells, match: CellMatch) -> None:
    taken = set(match.pairs.values())
    anchors = [(-1, -1)] + _anchors(match) + [(len(cells), len(tcells))]
    for (s0, t0), (s1, t1) in zip(anchors, anchors[1:]):
        student = [i for i in range(s0 + 1, s1) if i not in match.pairs]
        tmpl = [j for j in range(t0 + 1, t1) if j not in taken]
        if student and tmpl:
            for i, j, sim in _align(cells, tcells, student, tmpl):
                match.pairs[i], match.how[i] = j, "similar" if sim >= STRONG else "position"


def _align(cells, tcells, student: list[int], tmpl: list[int]) -> list[tuple[int, int, float]]:
    """Pairs (student index, template index, similarity) in order, maximising the summed score."""
    if len(student) * len(tmpl) > _MAX_PAIRS:
        return _positional(cells, tcells, student, tmpl)
    s_tok = [_tokens(cells[i].source) for i in student]
    t_tok = [_tokens(tcells[j].source) for j in tmpl]
    n, m = len(student), len(tmpl)

    def score(a: int, b: int) -> float | None:
        i, j = student[a], tmpl[b]
        if cells[i].cell_type != tcells[j].cell_type:
            return None
        sim = similarity(s_tok[a], t_tok[b])
        if _role(tcells[j]) not in _POSITIONAL_ROLES and sim < SIMILAR:
            return None
        # Ties go to the earliest student cell ("the cell below" the question).
        return 0.1 + sim - 1e-6 * a

    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    for a in range(n - 1, -1, -1):
        for b in range(m - 1, -1, -1):
            s = score(a, b)
            best[a][b] = max(best[a + 1][b], best[a][b + 1], best[a + 1][b + 1] + s if s is not None else 0.0)
    out, a, b = [], 0, 0
    while a < n and b < m:
        s = score(a, b)
        if s is not None and best[a][b] == best[a + 1][b + 1] + s:
            out.append((student[a], tmpl[b], similarity(s_tok[a], t_tok[b])))
            a, b = a + 1, b + 1
        elif best[a][b] == best[a][b + 1]:
            b += 1
        else:
            a += 1
    return out


def _positional(cells, tcells, student, tmpl) -> list[tuple[int, int, float]]:
    out, k = [], 0
    for j in tmpl:
        if _role(tcells[j]) not in _POSITIONAL_ROLES:
            continue
        while k < len(student) and cells[student[k]].cell_type != tcells[j].cell_type:
            k += 1
        if k == len(student):
            break
        out.append((student[k], j, 0.0))
        k += 1
    return out
