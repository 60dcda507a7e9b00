"""Rubrics for open answers: key points with accepted phrasings, and the grader that applies them.

Used by quiz questions of type ``short`` and ``interview`` and by the notebook
exercises' ``autograder/<exercise>/rubrics.yaml``. The schema is documented in
``docs/quizzes.md``; in short::

    key_points:
      - id: learned-features            # unique within the rubric
        label: features are learned from raw data
        weight: 2                       # default 1
        phrases: [learn* features, representation learning, end-to-end]
        requires_all: [[raw, pixels|input]]   # optional: every group must match too
        same_sentence: true             # optional: phrase and groups in one sentence (a stated relation)
    min_words: 15                       # optional: shorter answers are flagged
    contradictions: [never overfit*]    # optional: misconceptions, each costs a penalty
    claims: true                        # optional: naming a point without saying anything earns little

:func:`grade_text` is pure and deterministic. Its rules, in order:

1. An empty answer scores 0.
2. **Echo rule.** With the prompt given, an answer whose content words come
   mostly from the prompt (under 30% new, fewer than 4 new content words)
   scores 0; phrases that also occur in the prompt never earn credit.
3. A key point is *found* when one of its phrases occurs (see
   :mod:`dlgrade.rubric.textmatch`: case, punctuation, plurals and inflections
   do not matter; a negated mention does not count) and every
   ``requires_all`` group has a phrase that occurs; with ``same_sentence``, all
   of them in one sentence (the relation is stated, not two words scattered).
   Score = found weight / total weight.
3b. **Claims rule** (rubrics with ``claims: true``). A sentence is *empty*
   when its predicate is an empty one ("X is important", "Y plays a role",
   "I believe Z is something to think about", "W should be considered"), it
   has no word that links a claim ("because", "so", "means", "makes",
   "than", ...), and apart from rubric terms, words of the prompt and such
   filler it has at most one other word. Phrases in empty sentences only
   *name* a key point: a named point earns :data:`NAMED_CREDIT` of its weight
   instead of all of it, and the answer is flagged. Keyword stuffing written
   as sentences therefore earns at most a quarter, and a person reads it. In
   these rubrics a negation does not reach past a comma or parenthesis.
4. Each contradiction phrase found subtracts ``contradiction_penalty`` (of
   the whole) and flags the answer for review.
5. **Keyword-list rule.** An answer that reads as a list of terms is capped
   at :data:`KEYWORD_LIST_CAP` and flagged: 10+ words of which under 20% are
   function words ("the", "because", "is", ...), or 6+ words in at least 4
   comma/line/"and"-separated fragments, none longer than 3 words, with under
   30% function words.
6. Low confidence is flagged: an answer shorter than ``min_words`` that earned
   credit; an on-topic answer of 15+ words in which no key point was found.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from dlgrade.errors import SpecError
from dlgrade.rubric import textmatch as tm
from dlgrade.rubric.claims import Span, Terms, is_empty, sentences
from dlgrade.yamlfile import load_yaml

KEYWORD_LIST_CAP = 0.25
"""Highest score a keyword list can earn (rule 5)."""
ECHO_NEW_SHARE = 0.3
"""Below this share of content words not in the prompt, an answer is an echo (rule 2)..."""
ECHO_NEW_WORDS = 4
"""...unless it has at least this many new content words."""
REVIEW_MIN_WORDS = 15
"""An on-topic answer at least this long that matched nothing is flagged (rule 6)."""
MAX_ANSWER_CHARS = 20_000
"""The longest written answer graded (an exercise's or a quiz's): beyond it, the start is graded and the
answer flagged. About 3,000 words: no honest answer comes near it."""
NAMED_CREDIT = 0.25
"""Share of a key point's weight earned by naming it in an empty sentence (rule 3b)."""

# A matcher returns, for one key point and an answer, whether the point is made.
SemanticMatcher = Callable[["KeyPoint", str], bool]


@functools.lru_cache(maxsize=4096)
def _compiled(phrase: str) -> tm.Pattern:
    return tm.compile_phrase(phrase)


@dataclass(frozen=True)
class KeyPoint:
    """One thing a good answer says, with the phrasings that count as saying it."""

    id: str
    """Identifier, unique within its rubric; listed in feedback as found or missing."""
    phrases: tuple[str, ...]
    """Accepted phrasings and synonyms; any one occurring is enough (see textmatch for syntax)."""
    weight: float = 1.0
    """Relative worth of this point within the rubric (> 0)."""
    requires_all: tuple[tuple[str, ...], ...] = ()
    """Extra groups of phrases; each group must also have one phrase occurring."""
    label: str = ""
    """Short description shown to students and graders (defaults to the id)."""
    same_sentence: bool = False
    """When True, a phrase and one phrase of every ``requires_all`` group must occur in one sentence."""

    @property
    def title(self) -> str:
        return self.label or self.id


@dataclass(frozen=True)
class Rubric:
    """Key points of a good open answer, and how to grade against them."""

    key_points: tuple[KeyPoint, ...]
    """What a complete answer contains; the score is the found share of their weight."""
    min_words: int = 0
    """Answers shorter than this that still earn credit are flagged for review."""
    contradictions: tuple[str, ...] = ()
    """Phrases stating a misconception; each one found costs ``contradiction_penalty``."""
    contradiction_penalty: float = 0.25
    """Fraction of the whole subtracted per contradiction found."""
    claims: bool = False
    """When True, key points named only in empty sentences earn :data:`NAMED_CREDIT` (rule 3b)."""

    @property
    def total_weight(self) -> float:
        return sum(k.weight for k in self.key_points)

    @classmethod
    def from_dict(cls, d: Any, where: str = "rubric") -> "Rubric":
        """Build and validate a rubric; errors name ``where`` (e.g. ``"file.yaml: q3"``) and the field."""
        if not isinstance(d, Mapping):
            raise SpecError(f"{where}: a rubric must be a mapping with 'key_points', got {type(d).__name__}")
        _check_keys(d, {"key_points", "min_words", "contradictions", "contradiction_penalty", "claims"}, where)
        raw_points = d.get("key_points")
        if not isinstance(raw_points, list) or not raw_points:
            raise SpecError(f"{where}: 'key_points' must be a non-empty list")
        points, seen = [], set()
        for i, kp in enumerate(raw_points):
            point = _key_point(kp, f"{where}: key_points[{i}]")
            if point.id in seen:
                raise SpecError(f"{where}: key_points[{i}].id {point.id!r} is used twice")
            seen.add(point.id)
            points.append(point)
        min_words = d.get("min_words", 0)
        if not isinstance(min_words, int) or isinstance(min_words, bool) or min_words < 0:
            raise SpecError(f"{where}: 'min_words' must be a non-negative integer, got {min_words!r}")
        contradictions = _phrases(d.get("contradictions", []), f"{where}: contradictions")
        penalty = d.get("contradiction_penalty", 0.25)
        if not _is_number(penalty) or not 0 <= penalty <= 1:
            raise SpecError(f"{where}: 'contradiction_penalty' must be a number in [0, 1], got {penalty!r}")
        claims = d.get("claims", False)
        if not isinstance(claims, bool):
            raise SpecError(f"{where}: 'claims' must be true or false, got {claims!r}")
        return cls(tuple(points), min_words, contradictions, float(penalty), claims)

    def to_dict(self) -> dict:
        """The mapping :meth:`from_dict` reads (for exports and round trips)."""
        out: dict[str, Any] = {"key_points": [
            {"id": k.id, **({"label": k.label} if k.label else {}), "weight": k.weight,
             "phrases": list(k.phrases),
             **({"requires_all": [list(g) for g in k.requires_all]} if k.requires_all else {}),
             **({"same_sentence": True} if k.same_sentence else {})}
            for k in self.key_points]}
        if self.claims:
            out["claims"] = True
        if self.min_words:
            out["min_words"] = self.min_words
        if self.contradictions:
            out["contradictions"] = list(self.contradictions)
            out["contradiction_penalty"] = self.contradiction_penalty
        return out


@dataclass(frozen=True)
class RubricResult:
    """The outcome of grading one answer against one rubric."""

    score: float
    """Fraction of the rubric earned, in [0, 1]."""
    found: list[str]
    """Ids of the key points found, in rubric order."""
    missing: list[str]
    """Ids of the key points not found, in rubric order."""
    needs_review: bool
    """True when the automatic score is low-confidence and an instructor should look."""
    reasons: list[str]
    """Why the score was capped or zeroed, or why review is needed (empty when routine)."""
    evidence: dict[str, str] = field(default_factory=dict)
    """For each found key point, the phrase (or ``semantic``) that matched."""


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _check_keys(d: Mapping, allowed: set[str], where: str) -> None:
    unknown = sorted(set(map(str, d)) - allowed)
    if unknown:
        raise SpecError(f"{where}: unknown field {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})")


def _phrases(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(p, str) and p.strip() for p in value):
        raise SpecError(f"{where}: must be a list of non-empty strings, got {value!r}")
    for p in value:
        try:
            _compiled(p)
        except ValueError as exc:
            raise SpecError(f"{where}: {exc}") from None
    return tuple(value)


def _key_point(kp: Any, where: str) -> KeyPoint:
    if not isinstance(kp, Mapping):
        raise SpecError(f"{where}: a key point must be a mapping with 'id' and 'phrases'")
    _check_keys(kp, {"id", "label", "weight", "phrases", "requires_all", "same_sentence"}, where)
    kid = kp.get("id")
    if not isinstance(kid, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", kid):
        raise SpecError(f"{where}.id: must be a word of letters, digits, '-', '_' or '.', got {kid!r}")
    weight = kp.get("weight", 1)
    if not _is_number(weight) or weight <= 0:
        raise SpecError(f"{where}.weight: must be a positive number, got {weight!r}")
    phrases = _phrases(kp.get("phrases", []), f"{where}.phrases")
    groups = kp.get("requires_all", [])
    if not isinstance(groups, list):
        raise SpecError(f"{where}.requires_all: must be a list of phrase lists")
    requires = tuple(_phrases(g, f"{where}.requires_all[{i}]") for i, g in enumerate(groups))
    if not phrases and not requires:
        raise SpecError(f"{where}.phrases: a key point needs phrases or requires_all")
    label = kp.get("label", "")
    if not isinstance(label, str):
        raise SpecError(f"{where}.label: must be a string")
    same = kp.get("same_sentence", False)
    if not isinstance(same, bool):
        raise SpecError(f"{where}.same_sentence: must be true or false, got {same!r}")
    if same and not requires:
        raise SpecError(f"{where}.same_sentence: needs requires_all (the other side of the relation)")
    return KeyPoint(kid, phrases, float(weight), requires, label, same)


def load_rubrics(path: str | Path) -> dict[str, Rubric]:
    """Read a YAML file mapping question id -> rubric; errors name the file and question id."""
    path = Path(path)
    data = load_yaml(path, what="rubric file")
    if not isinstance(data, Mapping) or not data:
        raise SpecError(f"{path}: top level must map question ids to rubrics")
    return {str(qid): Rubric.from_dict(r, where=f"{path}: {qid}") for qid, r in data.items()}


def echoed_phrases(rubric: Rubric, prompt: str) -> list[tuple[str, str]]:
    """``(key point id, phrase)`` for every phrase that occurs in ``prompt`` (it could never earn credit)."""
    p_raw = tm.words(prompt)
    p_tok = [tm.stem(w) for w in p_raw]
    return [(kp.id, phrase) for kp in rubric.key_points for phrase in kp.phrases
            if tm.find(_compiled(phrase), p_tok, p_raw, check_negation=False)]


def _any_phrase(phrases: tuple[str, ...], toks: list[str], raw: list[str],
                echo: tuple[list[str], list[str]] | None) -> str | None:
    for phrase in phrases:
        pattern = _compiled(phrase)
        if echo is not None and tm.find(pattern, *echo, check_negation=False):
            continue  # the prompt says it already: repeating it shows nothing
        if tm.find(pattern, toks, raw):
            return phrase
    return None


@functools.lru_cache(maxsize=256)
def _vocabulary(rubric: Rubric) -> Terms:
    """Stems and prefixes of every rubric phrase: the words that only *name* the topic."""
    exact: set[str] = set()
    prefixes: set[str] = set()
    for kp in rubric.key_points:
        for phrase in kp.phrases + tuple(p for g in kp.requires_all for p in g):
            for slot in _compiled(phrase).slots:
                for option in slot:
                    (prefixes.add(option[:-1]) if option.endswith("*") else exact.add(option))
    return frozenset(exact), tuple(sorted(prefixes))


def _match(kp: KeyPoint, whole: Span, parts: list[Span],
           echo: tuple[list[str], list[str]] | None) -> str | None:
    """The phrase by which ``kp`` is found (``(requires_all)`` when it has none), or None."""
    spans = parts if kp.same_sentence else [whole]
    for sp in spans:
        hit = _any_phrase(kp.phrases, sp.toks, sp.raw, echo) if kp.phrases else "(requires_all)"
        if hit and all(_any_phrase(g, sp.toks, sp.raw, echo) for g in kp.requires_all):
            return hit
    return None


def _segments(text: str) -> list[list[str]]:
    parts = re.split(r"[,;\n\u2022]|\s-\s|\band\b|\bor\b", text.lower())
    return [w for w in (tm.words(p) for p in parts) if w]


def _is_keyword_list(text: str, raw: list[str]) -> bool:
    if len(raw) < 6:
        return False
    share = tm.function_word_share(raw)
    if len(raw) >= 10 and share < 0.2:
        return True
    segs = _segments(text)
    return len(segs) >= 4 and max(map(len, segs)) <= 3 and share < 0.3


def grade_text(rubric: Rubric, text: str, *, prompt: str | None = None,
               matcher: SemanticMatcher | None = None) -> RubricResult:
    """Grade ``text`` against ``rubric`` by the rules in this module's docstring.

    ``prompt`` (the question) enables the echo rule. ``matcher`` (optional,
    e.g. :func:`dlgrade.rubric.semantic.load_matcher`) is asked about key points
    the phrases did not find; a point it finds is credited and the answer is
    flagged for review.
    """
    ids = [k.id for k in rubric.key_points]
    raw = tm.words(text or "")
    if not raw:
        return RubricResult(0.0, [], ids, False, ["no answer"])
    toks = [tm.stem(w) for w in raw]
    echo = None
    if prompt:
        p_raw = tm.words(prompt)
        echo = ([tm.stem(w) for w in p_raw], p_raw)
        content = tm.content_stems(raw)
        prompt_content = set(tm.content_stems(p_raw))
        new = [c for c in content if c not in prompt_content]
        if content and len(new) / len(content) < ECHO_NEW_SHARE and len(new) < ECHO_NEW_WORDS:
            return RubricResult(0.0, [], ids, False, ["the answer mostly repeats the question"])

    whole = Span(toks, raw)
    said = sentences(text, clauses=rubric.claims)
    stated, stated_whole = said, whole
    if rubric.claims:
        whole = Span.join(said)
        prompt_stems = set(echo[0]) if echo is not None else set()
        stated = [sp for sp in said if not is_empty(sp, _vocabulary(rubric), prompt_stems)]
        stated_whole = Span.join(stated)

    found, named, evidence, reasons, review = [], [], {}, [], False
    for kp in rubric.key_points:
        hit = _match(kp, stated_whole, stated, echo)
        if hit:
            found.append(kp.id)
            evidence[kp.id] = hit
        elif rubric.claims and _match(kp, whole, said, echo):
            named.append(kp.id)
        elif matcher is not None and matcher(kp, text):
            found.append(kp.id)
            evidence[kp.id] = "semantic"
    if any(v == "semantic" for v in evidence.values()):
        review = True
        reasons.append("credited by the semantic matcher: "
                       + ", ".join(k for k, v in evidence.items() if v == "semantic"))
    if named:
        review = True
        reasons.append("names " + ", ".join(named) + " without saying anything about "
                       + ("it" if len(named) == 1 else "them") + f" (each earns {NAMED_CREDIT:.0%})")
    total = rubric.total_weight
    score = (sum(k.weight for k in rubric.key_points if k.id in evidence)
             + NAMED_CREDIT * sum(k.weight for k in rubric.key_points if k.id in named)) / total

    wrong = [c for c in rubric.contradictions if tm.find(_compiled(c), toks, raw)]
    if wrong:
        score -= rubric.contradiction_penalty * len(wrong)
        review = True
        reasons.append("states a misconception: " + "; ".join(wrong))
    if _is_keyword_list(text, raw):
        if score > KEYWORD_LIST_CAP:
            score = KEYWORD_LIST_CAP
        review = True
        reasons.append(f"reads as a keyword list, not an explanation (capped at {KEYWORD_LIST_CAP:.0%})")
    if rubric.min_words and len(raw) < rubric.min_words and score > 0:
        review = True
        reasons.append(f"shorter than {rubric.min_words} words")
    if not found and not named and len(raw) >= max(REVIEW_MIN_WORDS, rubric.min_words) \
            and _on_topic(rubric, toks, echo):
        review = True
        reasons.append("on topic but no key point recognised: phrasing may be unexpected")
    score = min(1.0, max(0.0, score))
    return RubricResult(round(score, 6), found, [i for i in ids if i not in evidence], review, reasons, evidence)


def _on_topic(rubric: Rubric, toks: list[str], echo: tuple[list[str], list[str]] | None) -> bool:
    """Whether the answer shares any content stem with the rubric's phrases (beyond the prompt)."""
    vocab: set[str] = set()
    for kp in rubric.key_points:
        for phrase in kp.phrases + tuple(p for g in kp.requires_all for p in g):
            for slot in _compiled(phrase).slots:
                vocab.update(o.rstrip("*") for o in slot)
    vocab -= {tm.stem(w) for w in tm.FUNCTION_WORDS}
    if echo is not None:
        vocab -= set(echo[0])
    return any(t in vocab for t in toks)
