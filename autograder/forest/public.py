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
    colour = np.arange(2 * 3 * 8 * 8, dtype=np.float32).reshape(2, 3, 8, 8)
    got = expect_array(sub.call("flatten_images", colour), what="flatten_images' output")
    t.check(got.shape == (2, 192) and np.array_equal(got, colour.reshape(2, -1)),
            "colour images of another size: (2, 3, 8, 8) -> (2, 192)", points=1, detail=f"shape {got.shape}",
            hint="keep the first axis and merge all the others, whatever their sizes: don't write 784")


@question("q2", points=1, title="train_forest returns the forest asked for", public=True)
def q2(sub, t):
    from sklearn.ensemble import RandomForestClassifier

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
    defaults = RandomForestClassifier().get_params(deep=False)
    changed = {k: v for k, v in params.items()
               if k in defaults and k not in ("n_estimators", "random_state", "n_jobs", "verbose")
               and not _same(v, defaults[k])}
    t.check(not changed, "every other setting is scikit-learn's default (no max_depth or other limits on the trees)",
            points=1, detail=", ".join(f"{k}={v!r}" for k, v in changed.items()),
            hint="RandomForestClassifier(n_estimators=100, random_state=42) and nothing else: limits such as "
                 "max_depth make the trees underfit")
    predicted = expect_array(sub.method(forest, "predict", X), what="the forest's predictions")
    if not t.check(predicted.shape == (len(y),), "the forest is fitted (it can predict)", points=1):
        return
    # Random pixels, random classes: a forest knows only the rows it was fitted on.
    known = float((predicted[-200:] == y[-200:]).mean())
    t.check(known >= 0.9, "it was fitted on every row given (it recognises the last 200 of 1,200 rows too)",
            points=1, detail=f"{known:.0%} of the last 200 rows right",
            hint="fit on all of X_train and y_train, not on a slice, with scikit-learn's defaults otherwise")
    t.check(_fitted_on_given_rows(sub, rng), "it was fitted on the rows given and nothing else (on 60 rows it is "
            "the forest its own settings fit on them, tree for tree)", points=1,
            hint="fit on the X_train and y_train passed in, not on the notebook's globals or the validation split")


def _same(value, default) -> bool:
    try:
        return bool(value == default)
    except (TypeError, ValueError):     # arrays and other values without one truth value
        return False


def _fitted_on_given_rows(sub, rng) -> bool:
    """Does train_forest fit on exactly its arguments? Its forest for 60 random rows must predict as
    the forest with the same settings fitted here on them. Settings that cannot be reproduced pass."""
    from sklearn.ensemble import RandomForestClassifier

    X, y = rng.random((60, 784)).astype(np.float32), np.arange(60) % 3
    forest = sub.call("train_forest", X, y)
    if sub.describe(forest).get("type") != "RandomForestClassifier":
        return False
    settings = sub.method(forest, "get_params", deep=False)
    seed = settings.get("random_state")
    if isinstance(seed, bool) or not isinstance(seed, int):
        return True                                   # no fixed seed: the check above says so
    allowed = RandomForestClassifier().get_params(deep=False)
    try:
        here = RandomForestClassifier(**{**{k: v for k, v in settings.items() if k in allowed}, "n_jobs": 1,
                                         "verbose": 0}).fit(X, y)
    except (TypeError, ValueError):
        return True
    probe = rng.random((100, 784)).astype(np.float32)
    got = np.asarray(sub.method(forest, "predict", probe))
    sub.release(forest)
    return got.shape == (100,) and bool(np.array_equal(got, here.predict(probe)))


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
    X_fit = rng.random((40, 784)).astype(np.float32)   # the forest learns from other images than the test ones
    forest = sub.make("forest", X_fit, sub.predict(net, X_fit).argmax(axis=1), n_estimators=3)
    # What each model scores on the images given, measured here before the table runs (the network in eval
    # mode, without gradients); names in an order that is not the alphabetical one.
    want = {"Random forest": float((np.asarray(sub.method(forest, "predict", X.reshape(40, -1))) == y).mean()),
            "Network": float((sub.predict(net, X).argmax(axis=1) == y).mean())}
    rows = sub.call("comparison_table", {"Random forest": forest, "Network": net}, X, y,
                    {"Random forest": 1.5, "Network": 2.5})
    ok = isinstance(rows, list) and len(rows) == 2 and all(isinstance(r, dict) for r in rows)
    t.check(ok and [r.get("model") for r in rows] == ["Random forest", "Network"]
            and all(set(r) >= {"model", "fit_seconds", "test_accuracy"} for r in rows),
            'two rows {"model", "fit_seconds", "test_accuracy"}, in the order of the dict given (not sorted)',
            points=1, detail=f"models {[r.get('model') for r in rows] if ok else rows!r:.80}")
    t.check(ok and all(isinstance(r.get("test_accuracy"), float) and 0 <= r["test_accuracy"] <= 1 for r in rows),
            "accuracies are fractions between 0 and 1", points=1)
    if not ok:
        return
    got = {r.get("model"): r.get("test_accuracy") for r in rows}
    t.check(all(isinstance(got.get(k), (int, float)) and abs(got[k] - v) < 1e-9 for k, v in want.items()),
            "each accuracy is the model's on the images and labels given (forest on flattened images, network "
            "in eval mode), and the table does not train the models", points=1,
            detail=f"yours {got}, measured here {want}",
            hint="use X_test and y_test as passed in, flatten them for the forest, and only predict: never fit "
                 "on the test images")
