"""Pairs of submissions that share an answer's fingerprints, found through an inverted index.

For each question every submission's answer becomes a :class:`Doc`: its
fingerprints (code: k-gram hashes of the normalised tokens, winnowed after the
template's and the reference's k-grams are removed, plus each statement of a few
tokens or more; written answers: word shingles) and, for each, the places it
covers. Fingerprints found in more than ``Settings.common_min`` submissions
(what the whole class writes, a common mistake) do not count. An inverted
index (fingerprint -> submissions) gives every pair that shares at least one
fingerprint, with the count, without comparing any pair's full text; a pair's
score is the share of the smaller answer's fingerprints found in the other one.
"""
from __future__ import annotations

import bisect
import dataclasses
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from itertools import combinations

from dlgrade.similarity.fingerprint import kgram_hashes, token_hash, winnow_runs
from dlgrade.similarity.load_work import Layout, Work, top_level
from dlgrade.similarity.normalise_code import normalise
from dlgrade.similarity.shingle_text import shingles, vocabulary


@dataclass(frozen=True)
class Settings:
    """How answers are compared; every field has a default that the labelled test set was measured with."""

    k: int = 8
    """Code: tokens per k-gram."""
    window: int = 2
    """Code: winnowing window (a shared passage of ``k + window - 1`` tokens is always seen)."""
    code_threshold: float = 0.4
    """Code: a pair is flagged when this share of the smaller answer's fingerprints is shared..."""
    code_min_shared: int = 2
    """...and at least this many fingerprints are."""
    statement_tokens: int = 6
    """Code: statements of at least this many tokens are fingerprints too."""
    shingle: int = 3
    """Written answers: words per shingle."""
    text_threshold: float = 0.4
    """Written answers: as ``code_threshold``..."""
    text_min_shared: int = 3
    """...and ``code_min_shared`` (an answer of fewer shingles cannot be flagged)."""
    common_min: int = 10
    """A fingerprint found in more than this many submissions (as MOSS's default)..."""
    common: float = 0.02
    """...or, in a large class, in more than this share of them, is what the class writes: it does not count."""
    min_cluster: int = 3
    """Clusters of at least this many submissions are listed."""


@dataclass
class Doc:
    """One submission's answer to one question, as fingerprints."""

    owner: int
    """Index of the submission."""
    prints: dict[int, set | list] = field(default_factory=dict)
    """Fingerprint -> the places it covers (code: a set of ``(cell, line)``; text: ``(start, end)`` of words)."""


@dataclass(frozen=True)
class Pair:
    """Two submissions' answers to one question, scored."""

    question: str
    kind: str
    """``code`` or ``text``."""
    a: int
    b: int
    shared: int
    """Fingerprints in both."""
    size_a: int
    size_b: int
    """Fingerprints of each answer that count."""
    flagged: bool
    marks_a: frozenset = frozenset()
    """Places of ``a``'s answer covered by shared fingerprints (filled for flagged pairs)."""
    marks_b: frozenset = frozenset()

    @property
    def score(self) -> float:
        """The share of the smaller answer's fingerprints found in the other one."""
        smaller = min(self.size_a, self.size_b)
        return self.shared / smaller if smaller else 0.0


def code_docs(works: list[Work], question: str, layout: Layout, settings: Settings,
              boilerplate: set[int] | frozenset[int] = frozenset()) -> list[Doc]:
    """Each work's code for ``question`` as fingerprints; k-grams in ``boilerplate`` are dropped before winnowing."""
    docs = []
    for owner, work in enumerate(works):
        chunks = work.code.get(question)
        if not chunks:
            continue
        doc = Doc(owner)
        by_cell: dict[int, Lines] = {}
        for chunk in chunks:
            # Each top-level statement on its own: reordering functions or cells creates no new k-grams.
            if chunk.cell not in by_cell:
                by_cell[chunk.cell] = Lines(normalise(work.cells[chunk.cell], keep=layout.keep))
            tokens = by_cell[chunk.cell].between(chunk.first, chunk.last)
            hashes = kgram_hashes([t.text for t in tokens], settings.k)
            for h, pos in winnow_runs(hashes, settings.window, boilerplate):
                doc.prints.setdefault(h, set()).update((chunk.cell, t.line) for t in tokens[pos:pos + settings.k])
            for h, run in statements(tokens, settings.statement_tokens):
                if h not in boilerplate:
                    doc.prints.setdefault(h, set()).update((chunk.cell, t.line) for t in run)
        docs.append(doc)
    return docs


class Lines:
    """A cell's tokens, in order, with the tokens of a range of lines found by bisection: a cell of many
    statements is not scanned once per statement."""

    def __init__(self, tokens: list):
        self.tokens = sorted(tokens, key=lambda t: t.line)     # already in order: sorting keeps it, and is linear
        self.lines = [t.line for t in self.tokens]

    def between(self, first: int, last: int) -> list:
        """The tokens on lines ``first`` to ``last``, both included."""
        return self.tokens[bisect.bisect_left(self.lines, first):bisect.bisect_right(self.lines, last)]


def boilerplate_prints(layout: Layout, settings: Settings) -> set[int]:
    """Every k-gram hash of the template's and the reference's code (not only the winnowed ones)."""
    out: set[int] = set()
    for source in layout.boilerplate:
        tokens = Lines(normalise(source, keep=layout.keep))
        for _, first, last in top_level(source):
            chunk = tokens.between(first, last)
            out.update(kgram_hashes([t.text for t in chunk], settings.k))
            out.update(h for h, _ in statements(chunk, 1))
    return out


def statements(tokens: list, min_tokens: int) -> list[tuple[int, list]]:
    """``(hash, tokens)`` of each simple statement of at least ``min_tokens`` tokens.

    A statement is also a fingerprint of its own: a line the student changed
    stays visible when a copier inserts a line next to it (which breaks the
    k-grams around it).
    """
    out, run = [], []
    for t in tokens + [None]:
        if t is None or t.text in (";", "{", "}"):
            if len(run) >= min_tokens:
                out.append((token_hash("\x00statement " + " ".join(x.text for x in run)), run))
            run = []
        else:
            run.append(t)
    return out


def text_docs(works: list[Work], question: str, layout: Layout, settings: Settings) -> list[Doc]:
    exclude = vocabulary(layout.prompts.get(question, ""))
    docs = []
    for owner, work in enumerate(works):
        text = work.text.get(question)
        if not text:
            continue
        doc = Doc(owner, {token_hash(s): spans for s, spans in
                          shingles(text, n=settings.shingle, exclude=exclude).items()})
        if doc.prints:
            docs.append(doc)
    return docs


def score_pairs(docs: list[Doc], *, question: str, kind: str, ignore: set[int], settings: Settings,
                n_works: int) -> list[Pair]:
    """Every pair sharing at least ``min_shared`` counted fingerprints, scored, best first."""
    threshold, min_shared = ((settings.code_threshold, settings.code_min_shared) if kind == "code"
                             else (settings.text_threshold, settings.text_min_shared))
    index: dict[int, list[int]] = defaultdict(list)
    for i, doc in enumerate(docs):
        for h in doc.prints:
            if h not in ignore:
                index[h].append(i)
    limit = max(settings.common_min, math.floor(settings.common * n_works))
    counted = {h: owners for h, owners in index.items() if len(owners) <= limit}
    sizes = Counter(i for owners in counted.values() for i in owners)
    together: Counter = Counter()
    for owners in counted.values():
        if len(owners) > 1:
            together.update(combinations(owners, 2))
    pairs = []
    for (i, j), shared in together.items():
        if shared < min_shared:
            continue
        a, b = docs[i], docs[j]
        pair = Pair(question, kind, a.owner, b.owner, shared, sizes[i], sizes[j], False)
        if pair.score >= threshold:
            common = [h for h in a.prints if h in b.prints and h in counted]
            pair = dataclasses.replace(pair, flagged=True,
                                       marks_a=frozenset(m for h in common for m in a.prints[h]),
                                       marks_b=frozenset(m for h in common for m in b.prints[h]))
        pairs.append(pair)
    pairs.sort(key=lambda p: (-p.flagged, -p.score, -p.shared, p.a, p.b))
    return pairs
