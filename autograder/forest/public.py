"""Self-checks of the Random Forest exercise: shapes, types and parameters, no real training."""
from __future__ import annotations

import numpy as np

from dlgrade.harness import expect_array, question


@question("q1", points=1, title="flatten_images shapes", public=True)
def q1(sub, t):
    X = np.arange(3 * 28 * 28, dtype=np.float32).reshape(3, 1, 28, 28)
    got = expect_array(sub.call("flatten_images", X), what="flatten_images' output")
    t.check(got.shape == (3, 784), "(3, 1, 28, 28) -> (3, 784)", points=1, detail=f"shape {got.shape}")
    t.check(got.shape == (3, 784) and np.array_equal(got[1], X[1].ravel()),
            "row i holds the pixels of image i, in order", points=1)
    one = expect_array(sub.call("flatten_images", X[:1]), what="flatten_images' output")
    t.check(one.shape == (1, 784), "a batch of one image: (1, 1, 28, 28) -> (1, 784)", points=1,
            detail=f"shape {one.shape}", hint="X.reshape(len(X), -1); squeeze() drops the batch axis of one image")


@question("q2", points=1, title="train_forest returns the forest asked for", public=True)
def q2(sub, t):
    rng = np.random.default_rng(0)
    X, y = rng.random((1200, 784)).astype(np.float32), np.arange(1200) % 3
    forest = sub.call("train_forest", X, y)
    info = sub.describe(forest)
    if not t.check(info.get("type") == "RandomForestClassifier", "returns a RandomForestClassifier", points=1,
                   detail=f"got {info.get('type')}"):
        return
    params = sub.method(forest, "get_params", deep=False)
    t.check(params.get("n_estimators") == 100 and params.get("random_state") == 42,
            "n_estimators=100, random_state=42", points=1,
            detail=f"n_estimators={params.get('n_estimators')!r}, random_state={params.get('random_state')!r}")
    predicted = expect_array(sub.method(forest, "predict", X), what="the forest's predictions")
    if not t.check(predicted.shape == (len(y),), "the forest is fitted (it can predict)", points=1):
        return
    # Random pixels, random classes: a forest knows only the rows it was fitted on.
    known = float((predicted[-200:] == y[-200:]).mean())
    t.check(known >= 0.9, "it was fitted on every row given (it recognises the last 200 of 1,200 rows too)",
            points=1, detail=f"{known:.0%} of the last 200 rows right",
            hint="fit on all of X_train and y_train, not on a slice")


@question("q3", points=1, title="time_call and the comparison table's format", public=True)
def q3(sub, t):
    out = sub.call("time_call", sub.make("sleeper", 0.05), 1, x=2)
    ok = isinstance(out, (tuple, list)) and len(out) == 2
    t.check(ok and isinstance(out[1], float) and 0.05 <= out[1] < 1.0,
            "time_call returns (result, seconds) for a 0.05 s call", points=1,
            detail=f"got {out[1]!r}" if ok else "", hint="seconds as a float, from time.perf_counter()")
    rng = np.random.default_rng(0)
    X = rng.random((40, 1, 28, 28)).astype(np.float32)
    net = sub.make("mode_probe", 784, 2, seed=0)   # right only in eval mode under no_grad
    y = sub.predict(net, X).argmax(axis=1)
    y[30:] = 1 - y[30:]                            # the network gets 75% right, 25% outside eval mode
    forest = sub.make("forest", X.reshape(40, -1), y, n_estimators=3)
    rows = sub.call("comparison_table", {"forest": forest, "net": net}, X, y, {"forest": 1.5, "net": 2.5})
    ok = isinstance(rows, list) and len(rows) == 2 and all(isinstance(r, dict) for r in rows)
    t.check(ok and [r.get("model") for r in rows] == ["forest", "net"]
            and all(set(r) >= {"model", "fit_seconds", "test_accuracy"} for r in rows),
            'two rows {"model", "fit_seconds", "test_accuracy"}, in the order given', points=1)
    t.check(ok and all(isinstance(r.get("test_accuracy"), float) and 0 <= r["test_accuracy"] <= 1 for r in rows),
            "accuracies are fractions between 0 and 1", points=1)
    if not ok:
        return
    # What each model scores on the images given, measured here (the network in eval mode, without gradients).
    want = {"forest": float((np.asarray(sub.method(forest, "predict", X.reshape(40, -1))) == y).mean()),
            "net": float((sub.predict(net, X).argmax(axis=1) == y).mean())}
    got = {r.get("model"): r.get("test_accuracy") for r in rows}
    t.check(all(isinstance(got.get(k), (int, float)) and abs(got[k] - v) < 1e-9 for k, v in want.items()),
            "each accuracy is the model's on the images and labels given (forest on flattened images, network "
            "in eval mode)", points=1, detail=f"yours {got}, measured here {want}",
            hint="use X_test and y_test as passed in; flatten them for the forest")
