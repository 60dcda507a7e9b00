"""Hidden tests of the XOR exercise: the perceptron, a two-layer network, collapsing linear stacks.

Every check compares the student's output with an answer computed here, on
inputs drawn per student from ``t.ctx.rng`` (the examples in the notebook are
never reused). The networks the student's code builds are described on the
student's side and rebuilt, trained (the grader's recipe) and scored here:
no student code runs while they train.
"""
from __future__ import annotations

import re

import numpy as np

from dlgrade.harness.figures import decision_regions
from dlgrade.harness.models import grader_network, network_logits, train_network
from dlgrade.harness.outputs import final_activation
from dlgrade.harness.short_answer import grade_short_answer
from dlgrade.harness import BadOutput, StudentError, expect_array, question

# -- oracles ----------------------------------------------------------------------------


def perceptron_predict(X, w, b) -> np.ndarray:
    return (np.asarray(X, float) @ np.asarray(w, float) + float(b) > 0).astype(int)


def perceptron_step(w, b, x, y, lr):
    error = y - perceptron_predict(np.asarray(x, float)[None, :], w, b)[0]
    return np.asarray(w, float) + lr * error * np.asarray(x, float), float(b) + lr * error


def separable_set(rng, n: int, d: int):
    """``n`` points in ``d`` dimensions split by a random hyperplane with a margin, including two
    points ``x`` and ``t * x`` of different classes on the same ray from the origin: no plane
    through the origin separates them, so a perceptron whose bias never moves cannot converge."""
    centre = rng.uniform(2.0, 3.0, size=d) * rng.choice([-1, 1], size=d)
    w = rng.normal(size=d)
    while abs(centre @ w) < 0.5 * np.linalg.norm(centre) * np.linalg.norm(w):   # plane far from 0
        w = rng.normal(size=d)
    X = centre + rng.normal(size=(6 * n, d))
    score = (X - centre) @ w
    keep = np.abs(score) / np.linalg.norm(w) > 0.3          # a margin keeps convergence quick
    X, score = X[keep][: n - 1], score[keep][: n - 1]
    margin = 0.3 * np.linalg.norm(w)
    pairs = ((x, t) for x, s in zip(X, score) for t in np.linspace(0.05, 5.0, 100)
             if ((t * x - centre) @ w) * np.sign(s) < -margin)     # t * x lies on the other side
    x, t = next(pairs, (None, None))
    if x is not None:
        X = np.vstack([X, t * x])
        score = np.append(score, (t * x - centre) @ w)
    return X, (score > 0).astype(int)


def perceptron_run(X, y, epochs: int, lr: float, *, ties_positive: bool = False):
    """Rosenblatt's training as the notebook states it: from w = 0, b = 0, rows in order, mistakes
    counted before each update, stopping after the first epoch without one. Returns (w, b, errors)."""
    w, b, errors = np.zeros(X.shape[1]), 0.0, []
    for _ in range(epochs):
        mistakes = 0
        for x, target in zip(X, y):
            z = x @ w + b
            error = target - int(z >= 0 if ties_positive else z > 0)
            mistakes += int(error != 0)
            w, b = w + lr * error * x, b + lr * error
        errors.append(mistakes)
        if mistakes == 0:
            break
    return w, b, errors


def follows_rule(X, y, epochs: int, lr: float, got) -> bool:
    """Do (w, b, errors) match the stated training run, step for step? Either tie convention is
    accepted (a tie-breaking slip already costs a point in Q1)."""
    w, b, errors = got
    return any(errors == want_errors and w.shape == want_w.shape and np.allclose(w, want_w, atol=1e-6)
               and abs(b - want_b) < 1e-6
               for want_w, want_b, want_errors in (perceptron_run(X, y, epochs, lr, ties_positive=tie)
                                                   for tie in (False, True)))


def replay(sub, X, y, epochs: int, lr: float):
    """The stated loop around the student's own predict_perceptron and perceptron_update, so that a
    slip in those (charged in Q1) is not charged again here. Returns (w, b, errors), or None when
    the student's functions do not return what Q1 asks for."""
    w, b, errors = np.zeros(X.shape[1]), 0.0, []
    try:
        for _ in range(epochs):
            mistakes = 0
            for x, target in zip(X, y):
                predicted = np.asarray(sub.call("predict_perceptron", x[None, :], w, b)).reshape(-1)
                mistakes += int(predicted.size != 1 or predicted[0] != target)
                pair = as_pair(sub.call("perceptron_update", w, b, x, int(target), lr=lr), "perceptron_update")
                if pair is None or pair[0].shape != w.shape:
                    return None
                w, b = pair
            errors.append(mistakes)
            if mistakes == 0:
                break
    except StudentError:
        return None
    return w, b, errors


def separates(X, y, w, b) -> bool:
    """All points right, with the stated convention (> 0) or with >= 0 (a tie-breaking slip
    already costs a point in Q1 and is not charged again here)."""
    z = np.asarray(X, float) @ np.asarray(w, float) + float(b)
    return bool(np.array_equal((z > 0).astype(int), y) or np.array_equal((z >= 0).astype(int), y))


def as_pair(value, what: str):
    """A ``(w, b)`` pair as (float array, float)."""
    if not isinstance(value, (tuple, list)) or len(value) < 2:
        return None
    w = expect_array(value[0], what=f"the w returned by {what}", ndim=1)
    b = np.asarray(expect_array(np.asarray(value[1]), what=f"the b returned by {what}"), float)
    if b.size != 1:
        return None
    return w.astype(float), float(b.reshape(()))


# -- Q1 -------------------------------------------------------------------------------------

@question("q1", points=4, title="Perceptron prediction and Rosenblatt's update rule")
def q1(sub, t):
    rng = t.ctx.rng("q1")
    X = rng.normal(size=(25, 3))
    w, b = rng.normal(size=3), float(rng.normal())
    X[0] = 0.0                       # a point on the line when b = 0 (checked below)
    got = expect_array(sub.call("predict_perceptron", X, w, b), what="predict_perceptron's output",
                       shape=(25,), kind="biuf")
    zero = expect_array(sub.call("predict_perceptron", X[:1], w, 0.0), what="predict_perceptron's output",
                        shape=(1,), kind="biuf")
    t.check(np.array_equal(got, perceptron_predict(X, w, b)) and zero[0] == 0,
            "predict_perceptron gives 1 where w.x + b > 0 and 0 elsewhere (0 on the line)", points=1,
            hint="return (X @ w + b > 0).astype(int): one 0/1 integer per row")

    d = 4
    cases = []                       # (w, b, x, y, lr): a missed positive, a false alarm, a correct one
    for y, want_mistake in ((1, True), (0, True), (1, False)):
        while True:
            w0, b0, x = rng.normal(size=d), float(rng.normal()), rng.normal(size=d) * 2
            z = x @ w0 + b0
            predicted = int(z > 0)
            if abs(z) > 0.2 and (predicted != y) == want_mistake:
                break
        cases.append((w0, b0, x, y, float(rng.choice([0.5, 0.25, 2.0]))))

    def update_matches(case) -> tuple[bool, str]:
        w0, b0, x, y, lr = case
        got = as_pair(sub.call("perceptron_update", w0, b0, x, y, lr=lr), "perceptron_update")
        if got is None or got[0].shape != w0.shape:
            return False, "perceptron_update should return the pair (w, b), w shaped like the input w"
        w_want, b_want = perceptron_step(w0, b0, x, y, lr)
        ok = np.allclose(got[0], w_want, atol=1e-6) and abs(got[1] - b_want) < 1e-6
        return ok, "" if ok else (f"got w={np.round(got[0], 3)}, b={got[1]:.3f}; expected "
                                  f"w={np.round(w_want, 3)}, b={b_want:.3f}")

    ok, detail = update_matches(cases[0])
    t.check(ok, "a missed positive (y=1, prediction 0) moves w by +lr*x and b by +lr", points=1,
            detail=detail, hint="the step is lr * (y - y_hat) times x for w, and lr * (y - y_hat) for b")
    ok, detail = update_matches(cases[1])
    t.check(ok, "a false alarm (y=0, prediction 1) moves w by -lr*x and b by -lr", points=1,
            detail=detail, hint="the error y - y_hat is -1 here: the line moves away from x")
    ok, detail = update_matches(cases[2])
    t.check(ok, "a correct prediction leaves w and b unchanged", points=1, detail=detail,
            hint="the update is proportional to the error y - y_hat, which is 0 when the prediction is right")


# -- Q2 -------------------------------------------------------------------------------------

BOOL_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)


def _train(sub, X, y, epochs, lr=1.0):
    out = sub.call_with("train_perceptron", (X, y), {"epochs": epochs, "lr": lr}, trains=True)
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        raise BadOutput("train_perceptron should return the triple (w, b, errors)")
    pair = as_pair(out[:2], "train_perceptron")
    if pair is None:
        raise BadOutput("train_perceptron should return (w, b, errors) with w an array and b a number")
    try:
        errors = [int(e) for e in out[2]]
    except (TypeError, ValueError):
        raise BadOutput("the errors returned by train_perceptron should be a list of mistake counts, "
                        "one per epoch") from None
    return pair[0], pair[1], errors


@question("q2", points=4, title="The perceptron learns AND and OR, never XOR")
def q2(sub, t):
    rng = t.ctx.rng("q2")
    for name, table in (("AND", [0, 0, 0, 1]), ("OR", [0, 1, 1, 1])):
        order = rng.permutation(4)                     # another row order than the notebook's
        X, y = BOOL_X[order], np.array(table)[order]
        w, b, errors = _train(sub, X, y, epochs=30)
        acc = float((perceptron_predict(X, w, b) == y).mean())
        learned = separates(X, y, w, b) and errors and errors[-1] == 0
        replayed = follows_rule(X, y, 30, 1.0, (w, b, errors))
        if learned and not replayed:
            own = replay(sub, X, y, 30, 1.0)
            replayed = own is not None and errors == own[2] and np.allclose(w, own[0], atol=1e-6) \
                and abs(b - own[1]) < 1e-6
        want_errors = perceptron_run(X, y, 30, 1.0)[2]
        t.check(learned and replayed,
                f"learns {name}: 100% with the returned (w, b), stopping after the first epoch without "
                "mistakes, as the rule run from w = 0, b = 0 does", points=1,
                detail=f"accuracy {acc:.0%}, mistakes per epoch {errors[:12]}"
                       + ("" if replayed or not learned else f"; the rule from zeros gives {want_errors}"),
                hint=("start from zeros, update after every example and keep the bias update: "
                      + ("AND needs a negative bias" if name == "AND" else "check the sign of the step"))
                if not learned else "start from w = 0 and b = 0, go through the rows in order, count a "
                                    "mistake before each update and break after the first epoch with none")

    X, y = separable_set(rng, 40, 4)
    w, b, errors = _train(sub, X, y, epochs=500, lr=0.5)
    acc = float((perceptron_predict(X, w, b) == y).mean())
    learned = separates(X, y, w, b) and errors and errors[-1] == 0
    hint = "the convergence theorem guarantees 100% here: check the update, the bias and lr"
    if learned and follows_rule(X, y, 500, 1.0, (w, b, errors)):
        hint = "pass lr on to perceptron_update: from w = 0 the predictions do not depend on lr, but the weights do"
    elif learned:
        hint = ("start from w = 0 and b = 0, go through the rows in order and break after the first epoch "
                "without mistakes")
    t.check(learned and follows_rule(X, y, 500, 0.5, (w, b, errors)),
            "converges on a random linearly separable set away from the origin (40 points in 4 dimensions, "
            "lr=0.5) to the (w, b) the rule reaches with that learning rate", points=1,
            detail=f"accuracy {acc:.1%} after {len(errors)} epochs" + ("" if not learned else
                                                                     f"; returned b = {b:.3f}"),
            hint=hint)

    order = rng.permutation(4)
    X, y = BOOL_X[order], np.array([0, 1, 1, 0])[order]
    w, b, errors = _train(sub, X, y, epochs=25)
    acc = float((perceptron_predict(X, w, b) == y).mean())
    t.check(len(errors) == 25 and min(errors) >= 1 and acc <= 0.75,
            "on XOR it never has an epoch without mistakes, runs all epochs and stays at 75% or less",
            points=1, detail=f"{len(errors)} epochs, mistakes per epoch {errors[:12]}, accuracy {acc:.0%}",
            hint="count the mistakes of each epoch afresh, and stop early only after an epoch with none")


# -- Q3 -------------------------------------------------------------------------------------


@question("q3", points=5, title="A two-layer network trained by the grader solves XOR")
def q3(sub, t):
    X, y = t.ctx.heldout("xor", 4)
    n_seeds = int(t.ctx.param("xor_seeds", 10))
    base = 1000 * t.ctx.train_seed

    model = sub.call_with("build_xor_mlp", seed=base)
    logits = sub.predict(model, X)
    sub.release(model)
    title = "maps (N, 2) points to (N, 2) logits, one score per class, with no activation after the last layer"
    if logits.shape != (4, 2):
        t.check(False, title, points=1, detail=f"output shape {logits.shape}",
                hint="end with nn.Linear(hidden, 2): cross-entropy needs one output per class")
        return

    # The grader rebuilds the described network from torch's classes and trains every copy here.
    try:
        net = grader_network(sub, "build_xor_mlp", sample=X, seed=base)
    except StudentError:
        t.check(True, title, points=1)
        raise
    # Read from the forward pass, not the values: four outputs of a sigmoid can look like anything.
    squashed = final_activation(net.description)
    t.check(not squashed, title, points=1, detail=f"a {squashed} follows the last Linear layer" if squashed else "",
            hint="remove it: cross-entropy applies log-softmax to the logits itself")
    solved = 0
    for i in range(n_seeds):
        copy = net if i == 0 else net.fresh(base + i)
        train_network(copy, t.ctx, "xor", "xor", seed=base + i)
        pred = network_logits(copy, t.ctx, X).argmax(axis=1)
        solved += int((pred == y).all())
    hint = ("a stack of Linear layers is linear and cannot get more than 3 of 4 points: "
            "put a nonlinearity (tanh) between the layers")
    t.check(solved >= 1, "at least one trained copy classifies all four XOR points", points=1,
            detail=f"{solved}/{n_seeds} seeds", hint=hint)
    t.at_least("xor_seeds_solved", solved, f"at least 8 of {n_seeds} seeds solve XOR", points=3,
               hint=hint if solved == 0 else "use 4 hidden units with tanh: with fewer units or ReLU, "
                                             "training gets stuck for some seeds")


# -- Q4 -------------------------------------------------------------------------------------

def _stack_oracle(state: dict, X: np.ndarray) -> np.ndarray:
    out = np.asarray(X, np.float64)
    i = 0
    while f"{i}.weight" in state:
        W = np.asarray(state[f"{i}.weight"], np.float64)
        out = out @ W.T + np.asarray(state[f"{i}.bias"], np.float64)
        i += 1
    return out


@question("q4", points=3, title="collapse_linear turns a stack of Linear layers into one")
def q4(sub, t):
    rng = t.ctx.rng("q4")
    seed = int(rng.integers(1 << 30))

    def run(sizes):
        stack = sub.make("linear_stack", sizes, seed=seed)
        X = rng.normal(size=(16, sizes[0])).astype(np.float32)
        want = _stack_oracle(sub.state_dict(stack), X)
        single = sub.call("collapse_linear", stack)
        info = sub.describe(single)
        return info, sub.predict(single, X), want

    info, got, want = run([3, 5, 4, 2])
    t.check(info.get("type") == "Linear" and info.get("params") == 3 * 2 + 2,
            "returns one nn.Linear(3, 2) for a 3 -> 5 -> 4 -> 2 stack", points=1,
            detail=f"got {info.get('type')} with {info.get('params')} parameters",
            hint="build nn.Linear(in_features of the first layer, out_features of the last one)")
    t.close(got, want, "computes the same outputs as the 3 -> 5 -> 4 -> 2 stack", points=1,
            rtol=1e-4, atol=1e-5,
            hint="the combined weight is W3 @ W2 @ W1 (last layer on the left), and the biases of "
                 "earlier layers pass through the later weights: b = W3 @ (W2 @ b1 + b2) + b3")
    ok = True
    for sizes in ([4, 4, 4, 4], [5, 3]):
        _, got, want = run(sizes)
        ok = ok and got.shape == want.shape and np.allclose(got, want, rtol=1e-4, atol=1e-5)
    t.check(ok, "also for a square 4 -> 4 -> 4 -> 4 stack and a single layer", points=1,
            hint="with square layers a wrong product order still runs but computes W1 @ W2 @ W3")


# -- Q5 -------------------------------------------------------------------------------------

@question("q5", points=3, title="Decision grid and decision-boundary figure")
def q5(sub, t):
    rng = t.ctx.rng("q5")
    X = np.column_stack([rng.uniform(-3.0, 1.0, 7), rng.uniform(0.5, 6.0, 7)]).astype(np.float32)
    steps, margin = int(rng.integers(11, 17)), float(rng.choice([0.25, 0.75]))
    # A linear probe, wrong unless evaluated in eval mode under no_grad, whose boundary crosses the
    # grid at a slant (a boundary outside the grid would make every layout look right).
    import torch

    probe = sub.make("mode_probe", 2, 2)
    centre = X.mean(axis=0) + rng.uniform(-0.5, 0.5, size=2)
    normal = np.array([np.cos(a := rng.uniform(0.2, 1.3)), np.sin(a)]) * rng.choice([-1, 1], size=2)
    state = {"fc.weight": torch.tensor(np.stack([-normal, normal]) / 2, dtype=torch.float32),
             "fc.bias": torch.tensor([normal @ centre / 2, -(normal @ centre) / 2], dtype=torch.float32)}
    sub.load_state(probe, state)
    out = sub.call("decision_grid", probe, X, steps=steps, margin=margin)
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        raise BadOutput("decision_grid should return the triple (xx, yy, classes)")
    xx, yy, classes = (expect_array(v, what=f"decision_grid's {n}", shape=(steps, steps))
                       for v, n in zip(out, ("xx", "yy", "classes")))

    xs = np.linspace(X[:, 0].min() - margin, X[:, 0].max() + margin, steps)
    ys = np.linspace(X[:, 1].min() - margin, X[:, 1].max() + margin, steps)
    want_xx, want_yy = np.meshgrid(xs, ys)
    t.check(np.allclose(xx, want_xx, atol=1e-5) and np.allclose(yy, want_yy, atol=1e-5),
            "xx, yy are np.meshgrid(xs, ys) over the points' range plus the margin", points=1,
            hint="xs spans the first column of X, ys the second, each widened by margin on both sides")
    W, b = np.asarray(state["fc.weight"], np.float64), np.asarray(state["fc.bias"], np.float64)
    scores = np.column_stack([want_xx.ravel(), want_yy.ravel()]) @ W.T + b
    want = scores.argmax(axis=1).reshape(steps, steps)
    clear = np.abs(scores[:, 0] - scores[:, 1]).reshape(steps, steps) > 1e-4   # ignore exact ties
    t.check(np.array_equal(np.asarray(classes)[clear], want[clear]),
            "classes[i, j] is the class predicted at (xx[i, j], yy[i, j]) in eval mode, without gradients",
            points=1, detail=f"{int((np.asarray(classes)[clear] != want[clear]).sum())} of {int(clear.sum())} "
                             "grid points differ",
            hint="call model.eval() and use torch.no_grad(); reshape the predictions to xx.shape")

    fig = sub.call("plot_decision_boundary", probe, X, (X[:, 0] > X[:, 0].mean()).astype(np.int64))
    kind = getattr(fig, "type", type(fig).__name__)
    is_figure = re.search(r"\bFigure$", str(kind)) is not None
    # What the figure shows, whatever drew it.
    shown, why = (decision_regions(sub.make("figure_data", fig), len(X), where=X) if is_figure
                  else (False, f"got {kind}"))
    t.check(shown, "plot_decision_boundary returns a Figure that fills the predicted regions and draws "
            "the points", points=1, detail=why,
            hint="ax.contourf(xx, yy, classes) fills the regions; ax.scatter draws the points; return ax.figure")
    if is_figure:
        sub.method(fig, "clear")


# -- Q6 -------------------------------------------------------------------------------------

Q6_PROMPT = ("Why can no stack of Linear layers, however deep, solve XOR, and what does the tanh "
             "between the layers change?")


@question("q6", points=2, title="Short answer: why depth needs a nonlinearity")
def q6(sub, t):
    grade_short_answer(sub, t, "q6", points=2, prompt=Q6_PROMPT)
