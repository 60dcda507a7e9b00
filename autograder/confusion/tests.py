"""Hidden tests of the confusion-matrix exercise.

Every numeric answer is compared with an oracle computed here: scikit-learn's
``confusion_matrix`` and ``precision_recall_fscore_support``, NumPy, or the
logits of a grader-made model whose weights the grader reads. Inputs are drawn
per student from ``t.ctx.rng`` and include the edge cases the lesson warns
about: classes that never occur, ties, a last batch that is smaller.
"""
from __future__ import annotations

import re

import numpy as np

from dlgrade.harness.draw_figure import heatmap_png
from dlgrade.harness.figures import judge_heatmap
from dlgrade.harness.short_answer import grade_short_answer
from dlgrade.harness import BadOutput, expect_array, question

# -- Q1 -------------------------------------------------------------------------------------


@question("q1", points=3, title="collect_predictions: eval mode, no gradients, every batch")
def q1(sub, t):
    import torch

    n = int(t.ctx.param("heldout_inputs", 300))
    X, _ = t.ctx.heldout("mnist", n)
    rng = t.ctx.rng("q1")
    batch_size = int(rng.choice([48, 64, 100]))
    if n % batch_size == 0:
        n -= 7
        X = X[:n]
    # A probe whose predictions are right only in eval mode under no_grad.
    probe = sub.make("mode_probe", int(np.prod(X.shape[1:])), 10, seed=int(rng.integers(1 << 30)))
    state = sub.state_dict(probe)
    got = expect_array(sub.call("collect_predictions", probe, torch.from_numpy(X), batch_size=batch_size),
                       what="collect_predictions' output", kind="biuf")
    t.check(got.shape == (n,), f"one prediction per input ({n} inputs, batches of {batch_size}, "
            "the last one smaller)", points=1, detail=f"shape {got.shape}",
            hint="take argmax over dim=1 (the classes) and keep the last, smaller batch")
    if got.shape != (n,):
        return
    W, b = np.asarray(state["fc.weight"], np.float64), np.asarray(state["fc.bias"], np.float64)
    logits = X.reshape(n, -1).astype(np.float64) @ W.T + b
    want = logits.argmax(axis=1)
    wrong = int((got != want).sum())
    # The probe answers with its least likely class outside eval mode or with gradients on.
    hint = ("call model.eval() before predicting and wrap the loop in `with torch.no_grad():`"
            if np.mean(got == logits.argmin(axis=1)) > 0.5 else
            "give the model the inputs as they are (no rescaling, no reshaping) and take the argmax over dim=1")
    t.check(wrong == 0, "the predictions are those of the model in eval mode under torch.no_grad()", points=2,
            detail=f"{wrong} of {n} predictions differ", hint=hint)


# -- Q2 -------------------------------------------------------------------------------------

def _oracle_cm(y_true, y_pred, k: int) -> np.ndarray:
    from sklearn.metrics import confusion_matrix

    return confusion_matrix(y_true, y_pred, labels=list(range(k)))


def _cm(sub, y_true, y_pred, **kwargs) -> np.ndarray:
    out = expect_array(sub.call("confusion_matrix", y_true, y_pred, **kwargs),
                       what="confusion_matrix's output", ndim=2, kind="biuf")
    return out


def _is_counts(cm: np.ndarray) -> bool:
    return cm.dtype.kind in "iu" or (cm.dtype.kind == "f" and np.array_equal(cm, np.round(cm)))


@question("q2", points=4, title="confusion_matrix agrees with scikit-learn")
def q2(sub, t):
    rng = t.ctx.rng("q2")
    y_true = rng.integers(0, 10, 400)
    y_pred = np.where(rng.random(400) < 0.6, y_true, rng.integers(0, 10, 400))
    got = _cm(sub, y_true, y_pred, num_classes=10)
    want = _oracle_cm(y_true, y_pred, 10)
    t.check(got.shape == want.shape and _is_counts(got) and np.array_equal(got, want),
            "matches sklearn's confusion_matrix on 400 random labels (10 classes)", points=1,
            detail=f"shape {got.shape}, dtype {got.dtype}", hint="integer counts, cm[true, predicted] += 1")

    # Rows are true classes: five examples of class a are all predicted as b (every class occurs).
    a, b = (int(v) for v in rng.choice(4, size=2, replace=False))
    y_true = np.array([0, 1, 2, 3] + [a] * 5)
    y_pred = np.array([0, 1, 2, 3] + [b] * 5)
    got = _cm(sub, y_true, y_pred, num_classes=4)
    want = _oracle_cm(y_true, y_pred, 4)
    square = got.shape == (4, 4)
    t.check(square and np.array_equal(got, want),
            f"rows are true classes: five {a}s predicted as {b} land in cm[{a}, {b}]", points=1,
            detail=f"cm[{a}, {b}] = {got[a, b] if square else '?'}, cm[{b}, {a}] = {got[b, a] if square else '?'}",
            hint="index the matrix as cm[y_true, y_pred], not the other way round")

    # Classes that never occur still get their row and column.
    present = np.array([c for c in range(7) if c != 3])
    y_true = rng.choice(present, 60)
    y_pred = np.where(rng.random(60) < 0.7, y_true, rng.choice(present, 60))
    got = _cm(sub, y_true, y_pred, num_classes=10)
    want = _oracle_cm(y_true, y_pred, 10)
    t.check(got.shape == (10, 10) and np.array_equal(got, want),
            "num_classes=10 with classes 3, 7, 8, 9 absent gives a 10 x 10 matrix with zero rows and columns",
            points=1, detail=f"shape {got.shape}",
            hint="size the matrix with num_classes, not with the labels that happen to occur (np.unique)")

    # Without num_classes: one more than the largest label in either array.
    y_true = rng.integers(0, 6, 50)
    y_pred = y_true.copy()
    y_pred[int(rng.integers(50))] = 7
    y_true[int(rng.integers(50))] = 6
    got = _cm(sub, y_true, y_pred)
    want = _oracle_cm(y_true, y_pred, 8)
    t.check(got.shape == (8, 8) and np.array_equal(got, want),
            "without num_classes the size is 1 + the largest label of y_true and y_pred (here 7, only predicted)",
            points=1, detail=f"shape {got.shape}", hint="K = max(y_true.max(), y_pred.max()) + 1")


# -- Q3 -------------------------------------------------------------------------------------

def _oracle_pairs(cm: np.ndarray, k: int) -> list[tuple[int, int, int]]:
    cells = [(int(cm[i, j]), i, j) for i in range(cm.shape[0]) for j in range(cm.shape[1])
             if i != j and cm[i, j] > 0]
    cells.sort(key=lambda c: (-c[0], c[1], c[2]))
    return [(i, j, c) for c, i, j in cells[:k]]


def _pairs(sub, cm, k) -> list[tuple]:
    out = sub.call("most_confused_pairs", cm, k=k)
    if isinstance(out, np.ndarray):
        out = out.tolist()
    if not isinstance(out, (list, tuple)):
        raise BadOutput(f"most_confused_pairs should return a list of (true, predicted, count), "
                        f"got {type(out).__name__}")
    pairs = []
    for item in out:
        if not isinstance(item, (list, tuple)) or len(item) != 3:
            raise BadOutput("each entry of most_confused_pairs should be a tuple (true, predicted, count)")
        try:
            pairs.append(tuple(int(v) for v in item))
        except (TypeError, ValueError):
            raise BadOutput("the entries of most_confused_pairs should be three integers") from None
    return pairs


def _show(pairs) -> str:
    return ", ".join(f"({i}, {j}, {c})" for i, j, c in pairs[:6]) or "nothing"


@question("q3", points=3, title="most_confused_pairs: off-diagonal, largest first, ties broken by class")
def q3(sub, t):
    rng = t.ctx.rng("q3")
    cm = rng.integers(0, 30, size=(8, 8))
    flat = rng.permutation(64)[:12]                  # a dozen large off-diagonal counts
    cm.flat[flat] += np.arange(40, 40 + 12 * 7, 7)
    np.fill_diagonal(cm, rng.integers(200, 400, 8))
    got, want = _pairs(sub, cm, 4), _oracle_pairs(cm, 4)
    t.check(got == want, "the 4 largest off-diagonal cells as (true, predicted, count), largest first", points=1,
            detail=f"got {_show(got)}; expected {_show(want)}",
            hint="skip the diagonal (correct predictions) and sort by count, largest first")

    cm = np.diag(rng.integers(50, 90, 10))
    cells = [(i, j) for i in range(10) for j in range(10) if i != j]
    for idx in rng.permutation(len(cells))[:30]:
        cm[cells[idx]] = 6                           # 30 ties
    cm[cells[int(rng.integers(len(cells)))]] = 9
    got, want = _pairs(sub, cm, 7), _oracle_pairs(cm, 7)
    t.check(got == want, "ties are broken by the smaller true class, then the smaller predicted class", points=1,
            detail=f"got {_show(got)}; expected {_show(want)}",
            hint="sort with key (-count, true, predicted); np.argsort and reverse=True order ties differently")

    cm = np.diag([5, 7, 9, 4])
    cm[2, 0], cm[1, 3] = 2, 1
    got0, got = _pairs(sub, cm, 0), _pairs(sub, cm, 5)
    t.check(got0 == [] and got == [(2, 0, 2), (1, 3, 1)],
            "only cells with a count above 0: k=5 on a matrix with two mistakes gives two pairs; k=0 none",
            points=1, detail=f"k=5 gave {_show(got)}", hint="drop zero cells before taking the first k")


# -- Q4 -------------------------------------------------------------------------------------

def _oracle_pr(cm: np.ndarray):
    from sklearn.metrics import precision_recall_fscore_support

    k = cm.shape[0]
    y_true = np.repeat(np.repeat(np.arange(k), k), cm.ravel())
    y_pred = np.repeat(np.tile(np.arange(k), k), cm.ravel())
    p, r, _, _ = precision_recall_fscore_support(y_true, y_pred, labels=list(range(k)), zero_division=0)
    return p, r


def _pr(sub, cm):
    out = sub.call("precision_recall", cm)
    if not isinstance(out, (list, tuple)) or len(out) != 2:
        raise BadOutput("precision_recall should return the pair (precision, recall)")
    k = cm.shape[0]
    return tuple(expect_array(v, what=f"the {n} array", shape=(k,), finite=False)
                 for v, n in zip(out, ("precision", "recall")))


@question("q4", points=3, title="precision_recall agrees with scikit-learn (zero_division=0)")
def q4(sub, t):
    rng = t.ctx.rng("q4")
    cm = rng.integers(0, 12, size=(6, 6))
    np.fill_diagonal(cm, rng.integers(20, 60, 6))
    cm[:, 0] += rng.integers(10, 30, 6)              # class 0 over-predicted: precision and recall differ
    p, r = _pr(sub, cm)
    wp, wr = _oracle_pr(cm)
    swapped = np.allclose(p, wr) and np.allclose(r, wp)
    t.close(p, wp, "precision = diagonal / column sums (what was predicted)", points=1, rtol=1e-6,
            hint="precision and recall look swapped: precision divides by the column (predicted) sums"
                 if swapped else "precision[c] = cm[c, c] / cm[:, c].sum()")
    t.close(r, wr, "recall = diagonal / row sums (what was true)", points=1, rtol=1e-6,
            hint="recall[c] = cm[c, c] / cm[c, :].sum()")

    cm = rng.integers(1, 9, size=(5, 5))
    never_predicted, absent = (int(v) for v in rng.choice(5, size=2, replace=False))
    cm[:, never_predicted] = 0
    cm[absent, :] = 0
    p, r = _pr(sub, cm)
    wp, wr = _oracle_pr(cm)
    finite = bool(np.isfinite(p).all() and np.isfinite(r).all())
    t.check(finite and np.allclose(p, wp) and np.allclose(r, wr),
            "a class never predicted (precision) and a class with no examples (recall) give 0, not NaN",
            points=1, detail=f"precision {np.round(p, 3).tolist()}, recall {np.round(r, 3).tolist()}",
            hint="divide only where the denominator is positive: np.divide(a, b, out=np.zeros_like(a), where=b > 0)")


# -- Q5 -------------------------------------------------------------------------------------

NAMES = ["ant", "bee", "cat", "dog", "eel", "fox", "gnu", "hen", "owl", "yak"]


@question("q5", points=3, title="plot_confusion_matrix: a labelled, correctly oriented heatmap")
def q5(sub, t):
    rng = t.ctx.rng("q5")
    k = 4
    names = [str(n) for n in rng.choice(NAMES, size=k, replace=False)]
    cm = rng.integers(0, 5, size=(k, k))
    np.fill_diagonal(cm, rng.integers(20, 40, k))
    cm[0, k - 1], cm[k - 1, 0] = 17, 1               # asymmetric: a transposed picture differs
    fig = sub.call("plot_confusion_matrix", cm, names)
    kind = str(getattr(fig, "type", type(fig).__name__))
    if not t.check(re.search(r"\b(Figure|Axes)$", kind) is not None, "returns a matplotlib Figure", points=0,
                   detail=f"got {kind}", hint="return the fig of plt.subplots (or plt.gcf())"):
        return
    shown = judge_heatmap(sub.make("figure_data", fig), cm, names)   # what it shows, whatever drew it
    sub.method(fig, "clear")
    if not t.check(shown.found, f"the figure shows the matrix as a {k} x {k} grid of coloured cells", points=0,
                   hint="draw the matrix with ax.imshow(cm) (matshow, pcolormesh or seaborn.heatmap work too)"):
        return
    t.check(shown.labels, "the x axis is labelled as predicted, the y axis as true", points=1,
            detail=shown.labels_detail, hint="rows are true classes, so the y axis is 'True', the x axis 'Predicted'")
    t.check(shown.named, "each column and each row of cells has a class name as its tick label", points=1,
            detail=shown.named_detail,
            hint="ax.set_xticks(range(K), labels=class_names) and the same for y: one tick at the centre of "
                 "each cell")
    t.check(shown.content, "every cell shows cm[true, predicted] of the classes labelling it (counts or shares), "
            "and every number written on a cell is that cell's", points=1, detail=shown.content_detail,
            hint="imshow(cm), not imshow(cm.T); write cm[i, j] at (x=j, y=i); ticks at range(K)")
    t.figure(heatmap_png(shown.values, xticks=shown.xticks, yticks=shown.yticks, xlabel=shown.xlabel,
                         ylabel=shown.ylabel),
             "your plot_confusion_matrix on a test matrix, redrawn from what it shows")


# -- Q6 -------------------------------------------------------------------------------------

# The question itself; the notebook's hints (shapes, handwriting, pixels) are left out of the
# prompt so that an answer using those words still earns the points they lead to.
Q6_PROMPT = "Why do the digit pairs 4/9, 3/5 and 7/2 get confused?"


@question("q6", points=2, title="Short answer: why 4/9, 3/5 and 7/2 get confused")
def q6(sub, t):
    grade_short_answer(sub, t, "q6", points=2, prompt=Q6_PROMPT)
