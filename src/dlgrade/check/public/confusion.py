"""Self-checks of the confusion-matrix exercise: small, fixed cases (the grader's tests use others)."""
from __future__ import annotations

import numpy as np

from dlgrade.harness import expect_array, question


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


@question("q2", points=1, title="confusion_matrix on a small case", public=True)
def q2(sub, t):
    got = expect_array(sub.call("confusion_matrix", [0, 1, 2, 2], [0, 2, 2, 1], num_classes=4),
                       what="confusion_matrix's output")
    want = np.array([[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 1, 0], [0, 0, 0, 0]])
    t.check(got.shape == (4, 4), "num_classes=4 gives a 4 x 4 matrix (class 3 never occurs)", points=1,
            detail=f"shape {got.shape}")
    t.check(got.shape == (4, 4) and np.array_equal(got, want),
            "cm[1, 2] = 1: the true 1 was predicted as 2 (rows are true classes)", points=1,
            detail=f"got {got.tolist()}")


@question("q3", points=1, title="most_confused_pairs on a small case", public=True)
def q3(sub, t):
    cm = np.array([[9, 2, 0], [4, 8, 2], [0, 0, 7]])
    got = [tuple(int(v) for v in p) for p in sub.call("most_confused_pairs", cm, k=3)]
    t.check(got == [(1, 0, 4), (0, 1, 2), (1, 2, 2)],
            "[(1, 0, 4), (0, 1, 2), (1, 2, 2)]: largest first, ties by true then predicted class, no diagonal",
            points=1, detail=f"got {got}")


@question("q4", points=1, title="precision_recall on a small case", public=True)
def q4(sub, t):
    cm = np.array([[3, 1, 0], [0, 2, 0], [0, 0, 0]])
    out = sub.call("precision_recall", cm)
    if not t.check(isinstance(out, (tuple, list)) and len(out) == 2, "returns (precision, recall)", points=1):
        return
    p, r = (np.asarray(v, float) for v in out)
    t.close(p, [1.0, 2 / 3, 0.0], "precision: [1, 2/3, 0] (class 2 is never predicted)", points=1)
    t.close(r, [0.75, 1.0, 0.0], "recall: [3/4, 1, 0] (class 2 has no examples)", points=1)


@question("q5", points=1, title="plot_confusion_matrix returns a labelled figure", public=True)
def q5(sub, t):
    fig = sub.call("plot_confusion_matrix", np.array([[5, 1], [2, 7]]), ["yes", "no"])
    if not t.check(str(getattr(fig, "type", "")).endswith("Figure"), "returns a matplotlib Figure", points=1,
                   detail=f"got {getattr(fig, 'type', type(fig).__name__)}"):
        return
    labels = [(sub.method(ax, "get_xlabel"), sub.method(ax, "get_ylabel")) for ax in sub.method(fig, "get_axes")]
    t.check(any(x and y for x, y in labels), "the axes are labelled", points=1, detail=f"labels {labels}",
            hint="ax.set_xlabel('Predicted') and ax.set_ylabel('True')")
