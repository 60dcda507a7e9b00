"""Self-checks of the XOR exercise: small, fixed cases, no training (the grader's tests use others)."""
from __future__ import annotations

import numpy as np

from dlgrade.harness import expect_array, question
from dlgrade.harness.figures import decision_regions

BOOL_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
AND = np.array([0, 0, 0, 1])
OR = np.array([0, 1, 1, 1])
XOR = np.array([0, 1, 1, 0])


@question("q1", points=1, title="Perceptron prediction and update", public=True)
def q1(sub, t):
    pred = expect_array(sub.call("predict_perceptron", BOOL_X, np.array([1.0, 1.0]), -1.5),
                        what="predict_perceptron(X_BOOL, [1, 1], -1.5)", shape=(4,))
    t.check(np.array_equal(pred, AND), "w = [1, 1], b = -1.5 computes AND: [0, 0, 0, 1]", points=1,
            detail=f"got {pred.tolist()}", hint="1 where X @ w + b > 0, else 0")
    on_line = expect_array(sub.call("predict_perceptron", BOOL_X[:1], np.zeros(2), 0.0),
                           what="predict_perceptron on the line", shape=(1,))
    t.check(on_line[0] == 0, "a point exactly on the line (score 0) is predicted 0", points=1,
            hint="use a strict > 0")
    out = sub.call("perceptron_update", np.zeros(2), 0.0, np.array([1.0, 1.0]), 1, lr=1.0)
    ok = isinstance(out, (tuple, list)) and len(out) == 2
    w, b = (np.asarray(out[0], float), float(np.asarray(out[1]))) if ok else (None, None)
    t.check(ok and np.allclose(w, [1, 1]) and abs(b - 1) < 1e-9,
            "from w = 0, b = 0, the example x = [1, 1], y = 1 gives w = [1, 1], b = 1", points=1,
            detail="" if not ok else f"got w = {w.tolist()}, b = {b}",
            hint="return the pair (w + lr * (y - y_hat) * x, b + lr * (y - y_hat))")
    out = sub.call("perceptron_update", np.zeros(2), 0.0, np.array([1.0, 1.0]), 1, lr=0.5)
    ok = isinstance(out, (tuple, list)) and len(out) == 2
    t.check(ok and np.allclose(np.asarray(out[0], float), [0.5, 0.5]) and abs(float(np.asarray(out[1])) - 0.5) < 1e-9,
            "the learning rate scales the step: lr = 0.5 gives w = [0.5, 0.5], b = 0.5", points=1,
            detail="" if not ok else f"got w = {np.asarray(out[0], float).tolist()}, b = {float(np.asarray(out[1]))}",
            hint="multiply the correction by lr, for w and for b")
    out = sub.call("perceptron_update", np.array([1.0, 1.0]), 1.0, np.array([1.0, 0.0]), 1, lr=1.0)
    ok = isinstance(out, (tuple, list)) and len(out) == 2
    t.check(ok and np.allclose(np.asarray(out[0], float), [1, 1]) and abs(float(np.asarray(out[1])) - 1) < 1e-9,
            "a correctly classified example changes nothing", points=1)


def _rule_run(X, y, epochs: int, lr: float, *, ties_positive: bool = False):
    """Rosenblatt's training as the notebook states it, computed here: from w = 0, b = 0, rows in order,
    mistakes counted before each update, stopping after the first epoch without one."""
    w, b, errors = np.zeros(X.shape[1]), 0.0, []
    for _ in range(epochs):
        mistakes = 0
        for x, target in zip(X, y):
            error = target - int(x @ w + b >= 0 if ties_positive else x @ w + b > 0)
            mistakes += int(error != 0)
            w, b = w + lr * error * x, b + lr * error
        errors.append(mistakes)
        if mistakes == 0:
            break
    return w, b, errors


def _triple(out):
    """(w, b, errors) as (float array, float, list of ints), or None when ``out`` is not such a triple."""
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        return None
    try:
        return np.asarray(out[0], float).ravel(), float(np.asarray(out[1], float).reshape(())), \
            [int(e) for e in out[2]]
    except (TypeError, ValueError):
        return None


def _follows_rule(got, X, y, epochs: int, lr: float) -> bool:
    """Does the triple ``got`` replay the rule step for step? Either tie convention is accepted here:
    a point on the line predicted 1 is Q1's mistake, not Q2's."""
    return got is not None and any(
        got[2] == errors and got[0].shape == w.shape and np.allclose(got[0], w) and abs(got[1] - b) < 1e-9
        for w, b, errors in (_rule_run(X, y, epochs, lr, ties_positive=tie) for tie in (False, True)))


@question("q2", points=1, title="Perceptron training on AND and XOR", public=True)
def q2(sub, t):
    got = _triple(sub.call("train_perceptron", BOOL_X, AND, epochs=20))
    if not t.check(got is not None, "returns (w, b, errors): errors is a list with one mistake count per epoch",
                   points=1, hint="return w, b, errors with errors = [mistakes of epoch 1, epoch 2, ...]"):
        return
    w, b, errors = got
    acc = float(((BOOL_X @ w + b > 0).astype(int) == AND).mean())
    t.check(acc == 1.0 and errors[-1:] == [0], "learns AND (100%) and its last epoch has no mistakes",
            points=1, detail=f"accuracy {acc:.0%}, mistakes per epoch {errors}")
    want_w, want_b, want_errors = _rule_run(BOOL_X, AND, 20, 1.0)
    t.check(_follows_rule(got, BOOL_X, AND, 20, 1.0),
            f"on AND the rule from w = 0, b = 0 gives mistakes per epoch {want_errors}, then stops, with "
            f"w = {want_w.tolist()}, b = {want_b:g}", points=1,
            detail=f"got mistakes {errors}, w = {w.tolist()}, b = {b:g}",
            hint="start from zeros, go through the rows in order, count a mistake when the prediction before the "
                 "update is wrong, and break after the first epoch with none")
    got = _triple(sub.call("train_perceptron", BOOL_X, OR, epochs=20, lr=0.5))
    want_w, want_b, want_errors = _rule_run(BOOL_X, OR, 20, 0.5)
    t.check(_follows_rule(got, BOOL_X, OR, 20, 0.5),
            f"on OR with lr = 0.5 it ends at w = {want_w.tolist()}, b = {want_b:g} (the learning rate scales "
            "every step)", points=1,
            detail="" if got is None else f"got mistakes {got[2]}, w = {got[0].tolist()}, b = {got[1]:g}",
            hint="pass lr on to perceptron_update")
    got = _triple(sub.call("train_perceptron", BOOL_X, XOR, epochs=10))
    errors = got[2] if got is not None else []
    t.check(len(errors) == 10 and min(errors) >= 1, "on XOR every one of the 10 epochs has mistakes",
            points=1, detail=f"mistakes per epoch {errors}")


@question("q3", points=1, title="The XOR network's shape", public=True)
def q3(sub, t):
    model = sub.call_with("build_xor_mlp", seed=0)
    info = sub.describe(model)
    if not t.check("params" in info, "build_xor_mlp returns an nn.Module", points=1,
                   detail=f"got {info.get('type')}"):
        return
    logits = sub.predict(model, BOOL_X.astype(np.float32))
    t.check(logits.shape == (4, 2), "4 points in, (4, 2) logits out", points=1, detail=f"shape {logits.shape}")
    kinds = {m["type"] for m in info["modules"]}
    t.check(bool(kinds & {"Tanh", "ReLU", "Sigmoid", "LeakyReLU", "GELU", "ELU"}),
            "has a nonlinearity between the layers", points=1, detail=f"modules: {sorted(kinds)}",
            hint="without one, the two Linear layers are a single Linear layer (see Q4)")
    linears = [(m.get("in_features"), m.get("out_features")) for m in info["modules"] if m["type"] == "Linear"]
    t.check(linears == [(2, 4), (4, 2)], "the layers the question asks for: Linear(2, 4), then Linear(4, 2)",
            points=1, detail=f"Linear layers {linears}",
            hint="4 hidden units: with 2, training gets stuck for many seeds (try it in the cell below)")
    from dlgrade.harness.errors import StudentError
    from dlgrade.harness.models import grader_network
    from dlgrade.harness.outputs import final_activation

    try:
        net = grader_network(sub, "build_xor_mlp", sample=BOOL_X.astype(np.float32), seed=0)
    except StudentError as exc:
        if exc.kind in ("missing", "not_implemented"):
            raise
        t.check(False, "the grader can rebuild the network from torch's layers", points=1,
                detail=exc.message[:300], hint="use standard torch.nn layers in an nn.Sequential")
        return
    squashed = final_activation(net.description)
    t.check(not squashed, "ends with logits: no softmax, sigmoid or ReLU after the last Linear layer", points=1,
            detail=f"a {squashed} follows the last layer" if squashed else "",
            hint="remove it: cross-entropy applies log-softmax to the logits itself")


@question("q4", points=1, title="collapse_linear on small stacks", public=True)
def q4(sub, t):
    rng = np.random.default_rng(0)
    stack = sub.make("linear_stack", [3, 4, 2], seed=0)
    X = rng.normal(size=(5, 3)).astype(np.float32)
    single = sub.call("collapse_linear", stack)
    info = sub.describe(single)
    t.check(info.get("type") == "Linear" and info.get("params") == 3 * 2 + 2,
            "a 3 -> 4 -> 2 stack collapses to one nn.Linear(3, 2) (8 parameters)", points=1,
            detail=f"got {info.get('type')} with {info.get('params')} parameters",
            hint="nn.Linear(in_features of the first layer, out_features of the last); the combined weight "
                 "has shape (out, in)")
    t.close(sub.predict(single, X), sub.predict(stack, X), "same outputs as the 3 -> 4 -> 2 stack",
            points=1, rtol=1e-4, atol=1e-5)
    square = sub.make("linear_stack", [3, 3, 3, 3], seed=1)
    t.close(sub.predict(sub.call("collapse_linear", square), X), sub.predict(square, X),
            "same outputs as a square 3 -> 3 -> 3 -> 3 stack (where a wrong product order still runs)", points=1,
            rtol=1e-4, atol=1e-5, hint="the combined weight is W3 @ W2 @ W1: the last layer on the left")


@question("q5", points=1, title="Decision grid and figure", public=True)
def q5(sub, t):
    probe = sub.make("mode_probe", 2, 2, seed=3)         # predicts wrongly unless eval mode + no_grad
    X = np.array([[0.0, 0.0], [0.0, 3.0], [1.0, 0.0], [1.0, 3.0]])   # taller than wide: a swapped grid shows
    out = sub.call("decision_grid", probe, X, steps=9, margin=0.5)
    if not t.check(isinstance(out, (tuple, list)) and len(out) == 3, "returns (xx, yy, classes)", points=1):
        return
    shapes = [np.asarray(v).shape for v in out]
    if not t.check(all(s == (9, 9) for s in shapes), "xx, yy and classes have shape (steps, steps)", points=1,
                   detail=f"shapes {shapes}"):
        return
    xx, yy, classes = (expect_array(v, what=n) for v, n in zip(out, ("xx", "yy", "classes")))
    want_xx, want_yy = np.meshgrid(np.linspace(-0.5, 1.5, 9), np.linspace(-0.5, 3.5, 9))
    t.check(np.allclose(xx, want_xx) and np.allclose(yy, want_yy),
            "xx, yy = np.meshgrid(xs, ys): x from -0.5 to 1.5 along the columns, y from -0.5 to 3.5 down the rows",
            points=1, detail=f"xx from {xx.min():.2f} to {xx.max():.2f}, yy from {yy.min():.2f} to {yy.max():.2f}",
            hint="xs spans the first column of X, ys the second, each widened by margin")
    points = np.column_stack([want_xx.ravel(), want_yy.ravel()]).astype(np.float32)
    want = sub.predict(probe, points).argmax(axis=1).reshape(9, 9)
    t.check(np.array_equal(classes, want), "classes[i, j] is the model's class at (xx[i, j], yy[i, j]), "
            "predicted in eval mode without gradients", points=1,
            detail=f"{int((classes != want).sum())} of 81 grid points differ",
            hint="model.eval() and `with torch.no_grad():`; reshape the predictions to xx.shape")
    fig = sub.call("plot_decision_boundary", probe, X, np.array([0, 1, 1, 0]))
    if not t.check(str(getattr(fig, "type", "")).endswith("Figure"), "plot_decision_boundary returns a Figure",
                   points=1, detail=f"got {getattr(fig, 'type', type(fig).__name__)}"):
        return
    shown, why = decision_regions(sub.make("figure_data", fig), len(X), where=X)
    sub.method(fig, "clear")
    t.check(shown, "the figure fills the predicted regions and draws the 4 points at their places", points=1,
            detail=why,
            hint="ax.contourf(xx, yy, classes), then ax.scatter(X[:, 0], X[:, 1], c=y)")
