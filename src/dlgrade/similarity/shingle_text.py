"""Written answers as word shingles: runs of consecutive content words.

Normalising: lower case, Markdown and punctuation dropped, a plural ``s``
removed, then the question's own words (its prompt) and common English words
left out, so two students who both restate the question do not match. What is
left is cut into shingles of ``n`` consecutive words; two answers are compared
on the shingles they share. Each shingle remembers the words it covers (their
character spans in the answer) for highlighting.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

WORD = re.compile(r"[A-Za-z0-9]+(?:'[a-z]+)?")
STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being below between both
but by can cannot could did do does doing down during each few for from further had has have having he her here hers
him his how i if in into is it its itself just me more most my no nor not now of off on once only or other our out over
own same she should so some such than that the their them then there these they this those through to too under until
up very was we were what when where which while who whom why will with would you your yours one two thing things make
makes made way ways use used using get gets also well much many really since thus therefore hence however
""".split())


@dataclass(frozen=True)
class Word:
    text: str
    """Normalised."""
    start: int
    end: int
    """Character span in the original answer."""


def words(text: str) -> list[Word]:
    """Every word of ``text``, normalised, with its place in the original."""
    return [Word(_stem(m.group().lower()), m.start(), m.end()) for m in WORD.finditer(text)]


def vocabulary(text: str) -> frozenset[str]:
    """The normalised words of ``text`` (a prompt, to exclude)."""
    return frozenset(w.text for w in words(text))


def content_words(text: str, *, exclude: frozenset[str] = frozenset()) -> list[Word]:
    """The words that carry the answer: not common English, not in ``exclude`` (the prompt's words)."""
    return [w for w in words(text) if w.text not in STOPWORDS and w.text not in exclude]


def shingles(text: str, *, n: int = 3, exclude: frozenset[str] = frozenset()) -> dict[str, list[tuple[int, int]]]:
    """Shingle (its words joined by spaces) -> the character spans of the words it covers, over all places."""
    kept = content_words(text, exclude=exclude)
    if len(kept) < n:
        return {" ".join(w.text for w in kept): [(w.start, w.end) for w in kept]} if len(kept) >= 2 else {}
    out: dict[str, list[tuple[int, int]]] = {}
    for i in range(len(kept) - n + 1):
        run = kept[i:i + n]
        out.setdefault(" ".join(w.text for w in run), []).extend((w.start, w.end) for w in run)
    return out


def _stem(word: str) -> str:
    word = word.replace("'s", "")
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word
