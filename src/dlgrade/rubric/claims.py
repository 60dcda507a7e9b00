"""The claims rule: telling a sentence that states something from one that only names rubric terms.

Used by :func:`dlgrade.rubric.grade.grade_text` for rubrics with
``claims: true`` (rule 3b there). A sentence is *empty* when its predicate is
an empty one ("X is important", "Y plays a role", "I believe Z is something to
think about"), it has no word that links a claim ("because", "so", "makes",
"than", "not", "what", ...), and apart from the rubric's terms, the prompt's
words and filler it has at most :data:`EMPTY_OTHER_WORDS` other word.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from dlgrade.rubric import textmatch as tm

# Filler: words that make a sentence sound like a statement without stating anything (rule 3b).
EMPTY_WORDS = frozenset("""
believe think feel guess say said mention mentioned know consider considered considering consideration
important importance relevant relevance crucial essential key significant vital major big huge main
role roles part parts play plays played playing factor factors aspect aspects thing things something stuff
concept concepts idea ideas topic topics matter matters mattered keep mind worth interesting definitely
certainly probably maybe perhaps really truly generally overall basically lot lots here case cases context
regard regards involved related relate come comes coming also too well note notice aware look looking
""".split())

_CLAUSE_RE = re.compile(r"[(),;:]")
_SENTENCE_RE = re.compile(r"(?<=[.!?;:])\s+|\n+|(?<!\s)\s+-\s+")
"""Sentence breaks. A dash between spaces is matched from the first space of its run only, so that a long
run of spaces is scanned once (not once per space: quadratic in a student's answer)."""
_BOUNDARY = ["\x00"] * (tm.MAX_GAP + 1)   # between sentences: no phrase can span two


@dataclass(frozen=True)
class Span:
    """Tokens of some text: stems and the raw words, position by position."""

    toks: list[str]
    raw: list[str]

    @classmethod
    def of(cls, text: str, *, clauses: bool = False) -> "Span":
        """Tokens of ``text``; with ``clauses``, a break token at each ( ) , ; : so that a negation
        does not reach past the end of its clause."""
        if not clauses:
            raw = tm.words(text)
            return cls([tm.stem(w) for w in raw], raw)
        raw = []
        for k, part in enumerate(_CLAUSE_RE.split(text)):
            raw += ([tm.CLAUSE_BREAK] if k else []) + tm.words(part)
        return cls([tm.stem(w) for w in raw], raw)

    @classmethod
    def join(cls, spans: list["Span"]) -> "Span":
        toks: list[str] = []
        raw: list[str] = []
        for sp in spans:
            if toks:
                toks += _BOUNDARY
                raw += _BOUNDARY
            toks += sp.toks
            raw += sp.raw
        return cls(toks, raw)


def sentences(text: str, *, clauses: bool = False) -> list[Span]:
    """The sentences of ``text`` (split at . ! ? ; : and line breaks), as token spans."""
    spans = (Span.of(part, clauses=clauses) for part in _SENTENCE_RE.split(text))
    return [sp for sp in spans if any(w != tm.CLAUSE_BREAK for w in sp.raw)]


Terms = tuple[frozenset[str], tuple[str, ...]]
"""A rubric's vocabulary: exact stems, and prefixes (from ``word*`` options)."""


@functools.lru_cache(maxsize=1)
def _empty_predicates() -> tuple[tm.Pattern, ...]:
    return tuple(tm.compile_phrase(p) for p in (
        "important", "relevant", "crucial", "essential", "key", "significant", "role", "factor", "consideration",
        "something to think|consider|keep", "think about", "consider*", "matter|matters", "keep in mind",
        "worth", "aspect", "concept", "play* a part"))


_EMPTY_STEMS = frozenset(tm.stem(w) for w in EMPTY_WORDS)
CLAIM_MARKERS = frozenset("""
because so since therefore thus hence means meaning which that if when whenever than otherwise unless
lead leads leading led make makes making made cause causes caused let lets allow allows allowed need needs
require requires instead without cannot cant doesnt dont wont isnt arent never whereas while until
what not no only more less most least better worse best worst
""".split())
EMPTY_OTHER_WORDS = 1
"""Other words an empty sentence may have (rule 3b): "Exponential width is important" is still empty."""


def is_empty(sentence: Span, terms: Terms, prompt_stems: set[str]) -> bool:
    """An empty predicate, no claim marker, and nothing else beyond rubric ``terms`` and the prompt."""
    if not any(tm.find(p, sentence.toks, sentence.raw, check_negation=False) for p in _empty_predicates()):
        return False
    exact, prefixes = terms
    if any(w in CLAIM_MARKERS and w not in exact for w in sentence.raw):   # "not" in "not separable" is a term
        return False
    other = 0
    for word, st in zip(sentence.raw, sentence.toks):
        if word in tm.FUNCTION_WORDS or word in EMPTY_WORDS or st in _EMPTY_STEMS or word.isdigit() \
                or word == tm.CLAUSE_BREAK:
            continue
        if st in exact or st in prompt_stems or any(word.startswith(p) for p in prefixes):
            continue
        other += 1
    return other <= EMPTY_OTHER_WORDS
