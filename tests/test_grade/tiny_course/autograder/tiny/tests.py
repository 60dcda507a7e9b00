"""Hidden tests of the tiny exercise that dlgrade's own grading tests use.

q1 checks a function and its signature, q2 a prediction on a secret,
per-student sample (a threshold from thresholds/<profile>.yaml), q3 a short
answer graded with the rubric engine and flagged for review.
"""
from pathlib import Path

import numpy as np

from dlgrade.harness import expect_array, question

RUBRICS = Path(__file__).with_name("rubrics.yaml")
PLACEHOLDER = "YOUR ANSWER HERE"


@question("q1", points=2, title="add() adds arrays element-wise")
def q1(sub, t):
    out = expect_array(sub.call("add", np.arange(3.0), np.ones(3)), what="add(a, b)", shape=(3,))
    t.close(out, np.arange(3.0) + 1, "add([0, 1, 2], [1, 1, 1]) is [1, 2, 3]", points=1)
    t.check(sub.signature("add") == ["a", "b"], "add takes the parameters (a, b)", points=1,
            hint="keep the signature of the stub: def add(a, b)")


@question("q2", points=3, title="predict() separates the two classes")
def q2(sub, t):
    X = t.ctx.rng("q2").normal(size=(200, 2))
    y = (X[:, 0] > X[:, 1]).astype(np.int64)
    labels = expect_array(sub.call("predict", X), what="predict(X)", shape=(200,))
    t.check(True, "predict(X) returns one label per row", points=1)
    t.at_least("q2_accuracy", float((labels == y).mean()), "accuracy on held-out points", points=2,
               hint="class 1 is where x0 > x1")


@question("q3", points=2, title="Why evaluate on a held-out set? (short answer)")
def q3(sub, t):
    from dlgrade.quiz.rubric import grade_text, load_rubrics

    text = sub.answer_text("q3").replace(PLACEHOLDER, "").strip()
    result = grade_text(load_rubrics(RUBRICS)["q3"], text)
    t.check(result.score > 0, "explains why a held-out set is needed", points=round(2 * result.score, 4),
            detail=f"key points found: {', '.join(result.found) or 'none'}",
            hint="what does a score on the training data fail to tell you?")
    if text:
        t.review("short answer graded by the rubric engine" + (f": {'; '.join(result.reasons)}"
                                                               if result.reasons else ""))
