"""Do the numbers a notebook's text promises come from the calibration files, not from prose?

Each entry names a sentence of a solution notebook that quotes an accuracy and
the threshold whose reference mean (``autograder/<ex>/thresholds/<profile>.yaml``,
written by ``dlgrade calibrate``) it stands for. The quoted number must be that
mean, rounded as the text rounds it. When a recalibration moves a mean, this
test names the sentence to update.
"""
from __future__ import annotations

import re

import pytest

from tests.test_exercises.conftest import ROOT

QUOTES = [
    # (exercise, profile, pattern with one group: the percentage quoted, threshold name)
    ("ablation", "quick", r"one epoch gives the lesson's network about (\d+)%", "base_accuracy"),
    ("ablation", "quick", r"between about (\d+)% \(no hidden layer\)", "no_hidden_accuracy"),
    ("ablation", "quick", r"and about (\d+)% \(wider\)", "wider_accuracy"),
]
TOLERANCE = 0.01
"""How far the quoted percentage may be from the mean: the rounding to whole points of the text."""


def _markdown(ex_id: str) -> str:
    from dlgrade.harness.notebook import read_notebook

    nb = read_notebook(ROOT / "solutions" / ex_id / f"{ex_id}.ipynb")
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


@pytest.mark.parametrize("ex_id, profile, pattern, name", QUOTES, ids=[f"{q[0]}-{q[3]}" for q in QUOTES])
def test_quoted_accuracy_is_the_calibrated_mean(ex_id, profile, pattern, name):
    """Is the accuracy the notebook's text quotes the reference mean recorded by calibration?"""
    from dlgrade.harness.course import Exercise

    found = re.findall(pattern, _markdown(ex_id))
    assert len(found) == 1, f"solutions/{ex_id}: the sentence /{pattern}/ is gone or repeated: update QUOTES"
    threshold = Exercise.load(ROOT, ex_id).thresholds(profile)[name]
    assert threshold.mean is not None, f"{ex_id} {profile}.yaml: {name} has no recorded mean"
    quoted = int(found[0]) / 100
    assert abs(quoted - threshold.mean) <= TOLERANCE, (
        f"solutions/{ex_id}: the text says about {found[0]}%, calibration ({profile}) says {threshold.mean:.3f} "
        f"for {name}: update the sentence, then run dlgrade assign")
