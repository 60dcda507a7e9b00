"""Turning free text into comparable tokens, and finding rubric phrases in it.

Everything here is pure and deterministic. Text is lower-cased, split into
word tokens (punctuation is a separator, hyphens too, digits are kept), and
each token is reduced to a light stem so that plurals, -ing/-ed forms and
British/American spellings compare equal ("normalises", "normalizing" and
"normalized" all become ``normaliz``).

A *phrase* is a short string written by a rubric author. Its tokens must occur
in the answer in the same order, with at most :data:`MAX_GAP` other tokens
between two consecutive phrase tokens. Two forms of alternation are allowed:
``a|b`` at one position (``learn|extract features``), and a trailing ``*`` for
a prefix (``normali*``). A match preceded closely by a negation word ("not",
"never", "without", "n't", ...) does not count, unless the phrase itself
contains a negation.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

MAX_GAP = 2
"""Other tokens allowed between two consecutive tokens of a phrase."""

NEGATION_WINDOW = 3
"""How many tokens before a match are searched for a negation word."""

CLAUSE_BREAK = "\x01"
"""A token callers may insert at clause ends ( ``,`` ``(`` ...): a negation before it does not reach past it."""

NEGATIONS = frozenset({"not", "no", "never", "without", "cannot", "cant", "nt", "neither", "nor",
                       "isnt", "doesnt", "dont", "wont", "arent", "hardly"})

# Common English function words: their share of an answer tells prose from a bare keyword list.
FUNCTION_WORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each either else even every few
for from further had has have having he her here hers him his how i if in into is it its itself
just less let like may me might more most much must my no nor not now of off on once one only or
other our ours out over own per rather same she should since so some such than that the their
theirs them then there these they this those though through thus to too under until up upon us
very via was we were what when where whether which while who whom whose why will with within
without would yet you your instead whereas therefore hence although unless already still
""".split())

_TOKEN_RE = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_SUFFIXES = ("isations", "izations", "isation", "ization", "ations", "ation", "ising", "izing",
             "ness", "ment", "ings", "ised", "ized", "ises", "izes", "ing", "ise", "ize", "ed", "ly")


def stem(word: str) -> str:
    """A light, dictionary-free stem: strips common English suffixes, keeps at least 3 letters.

    It only has to map the forms a student is likely to write onto one key;
    it is not a linguistic stemmer: ``normalises``/``normalization`` ->
    ``normal``; ``layers`` -> ``layer``; ``features`` -> ``featur``;
    ``probabilities`` -> ``probability``.
    """
    if word.isdigit() or len(word) <= 3:
        return word
    if word.endswith(("ies", "ied")) and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "zes", "ches", "shes")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is", "as")):
        word = word[:-1]
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    if len(word) > 4 and word[-1] == word[-2] and word[-1] not in "aeiouls":
        word = word[:-1]   # "stopp(ing)" -> "stop"
    return word


def words(text: str) -> list[str]:
    """Lower-cased word tokens of ``text``; apostrophes are folded ("doesn't" -> "doesnt")."""
    text = text.lower().replace("\u2019", "'").replace("n't", "nt")
    # numbers written with thousands separators stay one token: 535,818 -> 535818
    text = re.sub(r"(?<=\d)[,_](?=\d{3}\b)", "", text)
    return [t.replace("'", "") for t in _TOKEN_RE.findall(text)]


def tokens(text: str) -> list[str]:
    """Stemmed tokens of ``text``: what phrases are matched against."""
    return [stem(w) for w in words(text)]


@dataclass(frozen=True)
class Pattern:
    """A compiled phrase: one set of accepted stems (or prefixes) per position."""

    text: str
    """The phrase as the rubric author wrote it."""
    slots: tuple[tuple[str, ...], ...]
    """Per position, the accepted stems; an entry ending in ``*`` is a prefix."""
    negated: bool
    """Whether the phrase itself contains a negation (then negation is not checked)."""


def compile_phrase(phrase: str) -> Pattern:
    """Compile a rubric phrase; raises ValueError when it is empty or malformed."""
    slots: list[tuple[str, ...]] = []
    for raw in phrase.lower().split():
        if "|" in raw:
            options = []
            for alt in raw.split("|"):
                option = _one_option(alt)
                if option is None:
                    raise ValueError(f"alternative {alt!r} in {phrase!r} must be a single word")
                options.append(option)
            slots.append(tuple(dict.fromkeys(options)))
            continue
        prefix = raw.endswith("*")
        parts = words(raw)
        if not parts:
            continue
        for k, part in enumerate(parts):
            last = k == len(parts) - 1
            slots.append((part + "*",) if prefix and last else (stem(part),))
    if not slots:
        raise ValueError(f"phrase {phrase!r} has no words")
    negated = any(o.rstrip("*") in NEGATIONS for slot in slots for o in slot)
    return Pattern(text=phrase, slots=tuple(slots), negated=negated)


def _one_option(alt: str) -> str | None:
    parts = words(alt)
    if len(parts) != 1:
        return None
    return parts[0] + "*" if alt.endswith("*") else stem(parts[0])


def _slot_matches(slot: tuple[str, ...], token: str, word: str) -> bool:
    for option in slot:
        if option.endswith("*"):
            if word.startswith(option[:-1]) or token.startswith(option[:-1]):
                return True
        elif option == token:
            return True
    return False


@dataclass(frozen=True)
class Match:
    """Where a phrase was found: token positions ``start`` to ``end`` (exclusive)."""

    phrase: str
    start: int
    end: int


def find(pattern: Pattern, toks: list[str], raw: list[str], *, check_negation: bool = True) -> Match | None:
    """First occurrence of ``pattern`` in the token list, or None.

    ``toks`` are stems and ``raw`` the unstemmed words (same length), for prefix
    options. Matching is greedy from each start position with gaps of at most
    :data:`MAX_GAP` tokens.
    """
    n = len(toks)
    first = pattern.slots[0]
    for i in range(n):
        if not _slot_matches(first, toks[i], raw[i]):
            continue
        pos, ok = i, True
        for slot in pattern.slots[1:]:
            for j in range(pos + 1, min(n, pos + 2 + MAX_GAP)):
                if _slot_matches(slot, toks[j], raw[j]):
                    pos = j
                    break
            else:
                ok = False
                break
        if not ok:
            continue
        if check_negation and not pattern.negated and _negated_before(raw, i):
            continue
        return Match(pattern.text, i, pos + 1)
    return None


def _negated_before(raw: list[str], start: int) -> bool:
    window = raw[max(0, start - NEGATION_WINDOW):start]
    if CLAUSE_BREAK in window:
        window = window[len(window) - window[::-1].index(CLAUSE_BREAK):]
    return any(w in NEGATIONS for w in window)


def function_word_share(raw: list[str]) -> float:
    """Share of ``raw`` words that are English function words (0 for an empty list)."""
    if not raw:
        return 0.0
    return sum(w in FUNCTION_WORDS for w in raw) / len(raw)


def content_stems(raw: list[str]) -> list[str]:
    """Stems of the words that are not function words: what an answer actually says."""
    return [stem(w) for w in raw if w not in FUNCTION_WORDS]
