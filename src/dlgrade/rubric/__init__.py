"""Grading written answers against rubrics: key points, accepted phrasings, claims.

A neutral layer shared by the quizzes (:mod:`dlgrade.quiz`) and the notebook
exercises' short-answer questions (:mod:`dlgrade.harness.short_answer`); it
imports neither. The schema is documented in ``docs/quizzes.md``.

* :mod:`dlgrade.rubric.grade`: :class:`Rubric`, :func:`load_rubrics`, :func:`grade_text`;
* :mod:`dlgrade.rubric.textmatch`: tokens, stems and phrase matching;
* :mod:`dlgrade.rubric.claims`: sentences that state something vs sentences that only name terms;
* :mod:`dlgrade.rubric.semantic`: an optional sentence-embedding matcher.

Nothing here imports torch.
"""
from __future__ import annotations

from dlgrade.rubric.grade import KeyPoint, Rubric, RubricResult, SemanticMatcher, grade_text, load_rubrics

__all__ = ["KeyPoint", "Rubric", "RubricResult", "SemanticMatcher", "grade_text", "load_rubrics"]
