"""Self-checks of the confusion-matrix exercise: small, fixed cases (the grader's tests use others)."""
from __future__ import annotations

import numpy as np

from dlgrade.harness import expect_array, question
from dlgrade.harness.figures import judge_heatmap


@question("q1", points=1, title="collect_predictions on a small batch", public=True)
def q1(sub, t):
    import torch

    X = torch.from_numpy(np.random.default_rng(0).normal(size=(10, 1, 28, 28)).astype(np.float32))
    probe = sub.make("mode_probe", 784, 10, seed=0)    # predicts wrongly unless eval mode + no_grad
    want = sub.predict(probe, X).argmax(axis=1)
    got = expect_array(sub.call("collect_predictions", probe, X, batch_size=4), what="collect_predictions' output")
    if not t.check(got.shape == (10,), "10 inputs in batches of 4 give 10 predictions", points=1,
                   detail=f"shape {got.shape}", hint="keep the last batch (2 inputs) and take argmax over dim=1"):
        return
    t.check(np.array_equal(got, want), "the predictions are the model's in eval mode under no_grad", points=1,
            hint="model.eval() and `with torch.no_grad():`")


@question("q2", points=1, title="confusion_matrix on small cases", public=True)
def q2(sub, t):
    # Not symmetric: two true 1s predicted as 2, one true 2 predicted as 1, one true 2 predicted as 0.
    got = expect_array(sub.call("confusion_matrix", [0, 1, 1, 2, 2, 2, 0], [0, 2, 2, 2, 1, 0, 0], num_classes=4),
                       what="confusion_matrix's output")
    want = np.array([[2, 0, 0, 0], [0, 0, 2, 0], [1, 1, 1, 0], [0, 0, 0, 0]])
    t.check(got.shape == (4, 4), "num_classes=4 gives a 4 x 4 matrix (class 3 never occurs)", points=1,
            detail=f"shape {got.shape}", hint="size the matrix with num_classes, not with the labels that occur")
    square = got.shape == (4, 4)
    t.check(square and np.array_equal(got, want),
            "rows are true classes: cm[1, 2] = 2 (two true 1s predicted as 2) and cm[2, 1] = 1", points=1,
            detail=f"got {got.tolist()}" + (" (this is the transpose)" if square and np.array_equal(got, want.T)
                                            else ""),
            hint="count with cm[y_true[i], y_pred[i]] += 1")
    t.check(got.dtype.kind in "iu" or np.array_equal(got, np.round(got)), "the entries are whole counts", points=1,
            detail=f"dtype {got.dtype}")
    got = expect_array(sub.call("confusion_matrix", [0, 1, 1], [0, 1, 4]), what="confusion_matrix's output")
    t.check(got.shape == (5, 5), "without num_classes, labels up to 4 (here only predicted) give a 5 x 5 matrix",
            points=1, detail=f"shape {got.shape}", hint="K = max(y_true.max(), y_pred.max()) + 1")


@question("q3", points=1, title="most_confused_pairs on small cases", public=True)
def q3(sub, t):
    cm = np.array([[9, 2, 0], [4, 8, 2], [0, 0, 7]])
    got = [tuple(int(v) for v in p) for p in sub.call("most_confused_pairs", cm, k=3)]
    t.check(got == [(1, 0, 4), (0, 1, 2), (1, 2, 2)],
            "[(1, 0, 4), (0, 1, 2), (1, 2, 2)]: largest first, ties by true then predicted class, no diagonal",
            points=1, detail=f"got {got}")
    got = [tuple(int(v) for v in p) for p in sub.call("most_confused_pairs", cm, k=10)]
    t.check(got == [(1, 0, 4), (0, 1, 2), (1, 2, 2)], "k=10 on a matrix with three mistakes gives three pairs "
            "(cells with a count of 0 are left out)", points=1, detail=f"got {got}")
    got = list(sub.call("most_confused_pairs", cm, k=0))
    t.check(got == [], "k=0 gives no pairs", points=1, detail=f"got {got}")
    # Many ties: np.argsort does not keep equal counts in (true, predicted) order.
    cm = np.array([[28, 0, 3, 3, 0, 3], [0, 26, 3, 0, 0, 3], [3, 3, 25, 0, 0, 0],
                   [5, 0, 0, 22, 3, 3], [3, 0, 0, 3, 23, 0], [3, 3, 0, 0, 0, 20]])
    want = [(3, 0, 5), (0, 2, 3), (0, 3, 3), (0, 5, 3), (1, 2, 3), (1, 5, 3)]
    got = [tuple(int(v) for v in p) for p in sub.call("most_confused_pairs", cm, k=6)]
    t.check(got == want, "with fourteen cells tied at 3, ties go by the smaller true class, then the smaller "
            "predicted class", points=1, detail=f"got {got}",
            hint="sort with key (-count, true, predicted); np.argsort orders equal counts differently")


@question("q4", points=1, title="precision_recall on a small case", public=True)
def q4(sub, t):
    cm = np.array([[3, 1, 0], [0, 2, 0], [0, 0, 0]])
    out = sub.call("precision_recall", cm)
    if not t.check(isinstance(out, (tuple, list)) and len(out) == 2, "returns (precision, recall)", points=1):
        return
    p, r = (np.asarray(v, float) for v in out)
    t.close(p, [1.0, 2 / 3, 0.0], "precision: [1, 2/3, 0] (class 2 is never predicted)", points=1)
    t.close(r, [0.75, 1.0, 0.0], "recall: [3/4, 1, 0] (class 2 has no examples)", points=1)


@question("q5", points=1, title="plot_confusion_matrix draws a labelled heatmap", public=True)
def q5(sub, t):
    cm = np.array([[5, 3, 0], [1, 7, 0], [0, 2, 6]])     # not symmetric: a transposed picture differs
    names = ["cat", "dog", "eel"]
    fig = sub.call("plot_confusion_matrix", cm, names)
    if not t.check(str(getattr(fig, "type", "")).endswith(("Figure", "Axes")), "returns a matplotlib Figure",
                   points=1, detail=f"got {getattr(fig, 'type', type(fig).__name__)}"):
        return
    shown = judge_heatmap(sub.make("figure_data", fig), cm, names)
    sub.method(fig, "clear")
    if not t.check(shown.found, "the figure shows a 3 x 3 grid of coloured cells", points=1,
                   hint="ax.imshow(cm) (matshow, pcolormesh or seaborn.heatmap work too)"):
        return
    t.check(shown.labels, "the x axis says predicted, the y axis true", points=1, detail=shown.labels_detail,
            hint="ax.set_xlabel('Predicted') and ax.set_ylabel('True')")
    t.check(shown.named, "each row and each column of cells has its class name as tick label", points=1,
            detail=shown.named_detail, hint="ax.set_xticks(range(K), labels=class_names), the same for y")
    t.check(shown.content, "each cell shows cm[true, predicted] for the names beside it, and the numbers written "
            "on the cells are theirs", points=1, detail=shown.content_detail,
            hint="imshow(cm), not imshow(cm.T); write cm[i, j] at (x=j, y=i)")
