"""Are copies found and independent solutions left alone? Precision and recall on a labelled set.

The set is generated from each exercise's samples and mutants (see
``similarity_cases``): copies with renamed variables, reordered functions,
changed comments and whitespace, split and merged cells, a few edits; written
answers copied with changed case, punctuation, sentence order and words. Each
copy group is compared inside a class of all the independent submissions
(:meth:`Case.populations`). The figures are printed at the end of the run; the
target is 0.95 for both.
"""
from __future__ import annotations

import pytest
from similarity_cases import EXERCISES, code_case, text_case

from dlgrade.similarity import compare

TARGET = 0.95


def count(case) -> tuple[int, int, int]:
    """(found, false, missed) over the case's classes (each pair counted once)."""
    tp = fp = fn = 0
    for number, members in enumerate(case.populations()):
        result = compare([case.works[i] for i in members], case.layout, exercise=case.exercise)
        flagged = {tuple(sorted((members[p.a], members[p.b]))) for p in result.flagged()}
        for x, i in enumerate(members):
            for j in members[x + 1:]:
                i_, j_ = min(i, j), max(i, j)
                label = case.label(i_, j_)
                if label is None or not case.counted(i_, j_, number):
                    continue
                hit = (i_, j_) in flagged
                tp += label and hit
                fn += label and not hit
                fp += hit and not label
    return tp, fp, fn


@pytest.mark.parametrize("kind", ["code", "text"])
@pytest.mark.parametrize("exercise", EXERCISES)
def test_precision_and_recall(exercise, kind, measured):
    """Does the comparison find at least 95% of the copies, with at least 95% of what it flags being copies?"""
    case = (code_case if kind == "code" else text_case)(exercise)
    tp, fp, fn = count(case)
    measured.setdefault(exercise, {})[kind] = (tp, fp, fn, case.unmeasurable)
    assert tp + fn > 0, f"{exercise}: no copies in the labelled set"
    precision, recall = tp / (tp + fp) if tp + fp else 1.0, tp / (tp + fn)
    assert precision >= TARGET and recall >= TARGET, (
        f"{exercise} ({kind}): precision {precision:.3f}, recall {recall:.3f} ({tp} found, {fp} false, {fn} missed)")
