"""Hidden tests of the Random Forest exercise.

The forest is trained by the student's ``train_forest`` on the training set
(flattened here, so Q2 does not depend on Q1) and stays in the student's
process; the grader sends it secret test images and scores the returned
labels itself. The comparison table is checked against accuracies the grader
computes from the same models' predictions, which exposes training-set
accuracies, percentages, and networks evaluated in training mode.
"""
from __future__ import annotations


import numpy as np

from dlgrade.harness.short_answer import grade_short_answer
from dlgrade.harness import BadOutput, expect_array, question
from dlgrade.harness.models import grader_training


def flat(X: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(X, np.float32).reshape(len(X), -1))


# -- Q1 -------------------------------------------------------------------------------------

@question("q1", points=2, title="flatten_images: one row of pixels per image")
def q1(sub, t):
    import torch

    X, _ = t.ctx.heldout("mnist", 24)
    got = expect_array(sub.call("flatten_images", torch.from_numpy(X)), what="flatten_images' output",
                       kind="biuf")
    t.check(got.shape == (24, 784) and np.allclose(got, flat(X), atol=1e-6),
            "a (24, 1, 28, 28) tensor becomes a (24, 784) array, pixels in their original order", points=1,
            detail=f"shape {got.shape}", hint="X.reshape(len(X), -1): keep the first axis, merge the others")
    ok = True
    colour = t.ctx.rng("q1").normal(size=(5, 3, 8, 8)).astype(np.float32)   # C*H*W = 192, not 784
    for images in (X[:7].copy(), X[:1].copy(), colour):
        got = expect_array(sub.call("flatten_images", images), what="flatten_images' output", kind="biuf")
        ok = ok and got.shape == flat(images).shape and np.allclose(got, flat(images), atol=1e-6)
    t.check(ok, "NumPy arrays work too, including a batch of one image, (1, 1, 28, 28) -> (1, 784), and "
            "colour images, (5, 3, 8, 8) -> (5, 192)", points=1,
            hint="avoid squeeze(), a hard-coded batch size and a hard-coded 784; convert a tensor with .numpy() "
                 "only if it is one")


# -- Q2 -------------------------------------------------------------------------------------

def fitted_on_given_data(sub, t, data, params: dict) -> bool:
    """Does train_forest fit on its arguments? Called on 300 training digits, a forest with a fixed
    random_state must be the forest its own settings fit on them, tree for tree (the same
    predictions). Without a fixed seed (charged by the next check) or with other than 100 trees
    it cannot be told, and passes."""
    from sklearn.ensemble import RandomForestClassifier

    seed = params.get("random_state")
    if params.get("n_estimators") != 100 or isinstance(seed, bool) or not isinstance(seed, int):
        return True
    rng = t.ctx.rng("q2:own-data")
    idx = rng.permutation(len(data.y_train))[:300]
    X_small, y_small = flat(data.X_train.numpy()[idx]), data.y_train.numpy()[idx]
    small = sub.call_with("train_forest", (X_small, y_small), timeout=float(t.ctx.param("forest_timeout", 120)),
                          trains=True)
    if sub.describe(small).get("type") != "RandomForestClassifier":
        return False
    settings = sub.method(small, "get_params", deep=False)
    allowed = RandomForestClassifier().get_params(deep=False)
    if not isinstance(settings, dict) or not all(
            v is None or isinstance(v, (bool, int, float, str)) for k, v in settings.items() if k in allowed):
        return True                                    # settings the grader cannot reproduce from data
    try:
        reference = RandomForestClassifier(**{**{k: v for k, v in settings.items() if k in allowed},
                                              "n_jobs": 1, "verbose": 0})
        with grader_training(t.ctx):
            reference.fit(X_small, y_small)
    except (TypeError, ValueError):
        return True                                    # settings the grader cannot reproduce
    X_probe, _ = t.ctx.heldout("mnist", 200)
    got = np.asarray(sub.method(small, "predict", flat(X_probe)))
    sub.release(small)
    return got.shape == (len(X_probe),) and bool(np.array_equal(got, reference.predict(flat(X_probe))))


@question("q2", points=5, title="train_forest: RandomForestClassifier(100, random_state=42) above the mark")
def q2(sub, t):
    data = t.ctx.data("mnist")
    X_train, y_train = flat(data.X_train.numpy()), data.y_train.numpy()
    forest = sub.call_with("train_forest", (X_train, y_train),
                           timeout=float(t.ctx.param("forest_timeout", 120)), trains=True)
    info = sub.describe(forest)
    is_forest = info.get("type") == "RandomForestClassifier"
    params = sub.method(forest, "get_params", deep=False) if is_forest else {}
    n_trees, seed = params.get("n_estimators"), params.get("random_state")
    own_data = is_forest and fitted_on_given_data(sub, t, data, params)
    t.check(is_forest and own_data, "returns a RandomForestClassifier fitted on the images and labels it is given",
            points=1, detail=f"got {info.get('type')}" if not is_forest else "" if own_data else
            "on 300 training digits your forest is not the one the same settings fit on them: it was "
            "trained on other data",
            hint="return the classifier after calling .fit on it" if not is_forest else
            "fit on the X_train and y_train passed in, not on the notebook's globals or the validation split")
    t.check(n_trees == 100 and seed == 42, "with n_estimators=100 and random_state=42", points=1,
            detail=f"n_estimators={n_trees!r}, random_state={seed!r}",
            hint="RandomForestClassifier(n_estimators=100, random_state=42): the seed makes it reproducible")

    X, y = t.ctx.heldout("mnist")
    predicted = expect_array(sub.method(forest, "predict", flat(X)), what="the forest's predictions",
                             shape=(len(y),), kind="biuf")
    accuracy = float((predicted == y).mean())
    t.at_least("forest_accuracy", accuracy, f"accuracy on {len(y)} secret test images", points=3,
               hint="train on the whole training set you are given, with the parameters above")


# -- Q3 -------------------------------------------------------------------------------------

def _centroid_probe(data) -> dict:
    """Weights of a nearest-class-mean linear classifier: logits = X M^T - |M|^2 / 2."""
    import torch

    X, y = flat(data.X_train.numpy()).astype(np.float64), data.y_train.numpy()
    means = np.stack([X[y == c].mean(axis=0) for c in range(10)])
    return {"fc.weight": torch.from_numpy(means.astype(np.float32)),
            "fc.bias": torch.from_numpy((-0.5 * (means ** 2).sum(axis=1)).astype(np.float32))}


def _rows(value) -> list[dict]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(r, dict) for r in value):
        raise BadOutput("comparison_table should return a list of dicts, one per model")
    return list(value)


@question("q3", points=4, title="time_call and a comparison table of test accuracies")
def q3(sub, t):
    rng = t.ctx.rng("q3")
    delay = 0.05                        # long enough to tell seconds from 0 and from milliseconds
    sleeper = sub.make("sleeper", delay)
    out = sub.call("time_call", sleeper, 3, "a", key=5)
    ok = isinstance(out, (list, tuple)) and len(out) == 2
    result, seconds = (out[0], out[1]) if ok else (None, None)
    good_result = result == {"args": [3, "a"], "kwargs": {"key": 5}}
    good_time = isinstance(seconds, (int, float)) and delay <= seconds < delay + 2.0
    t.check(good_result and good_time, f"time_call returns (result, seconds) for a call that takes {delay}s",
            points=1, detail=f"got seconds={seconds!r}" + ("" if good_result else ", result not passed through"),
            hint="seconds, not milliseconds: time.perf_counter() before and after fn(*args, **kwargs)")

    data = t.ctx.data("mnist")
    n_fit = 600
    X_fit, y_fit = flat(data.X_train.numpy()[:n_fit]), data.y_train.numpy()[:n_fit]
    forest = sub.make("forest", X_fit, y_fit, n_estimators=10, random_state=int(rng.integers(1000)), trains=True)
    probe = sub.make("mode_probe", 784, 10, seed=0)   # right only in eval mode under no_grad
    sub.load_state(probe, _centroid_probe(data))

    # Held-out images the student may see: the validation split (the test split never leaves the grader).
    idx = rng.permutation(len(data.y_val))[:400]
    X_test, y_test = data.X_val.numpy()[idx], data.y_val.numpy()[idx]
    # In the dict's order, which is not the alphabetical one: a sorted table shows.
    forest_name, probe_name = "Random forest, 10 trees", "Linear network"
    fit_seconds = {forest_name: round(float(rng.uniform(0.5, 2.0)), 3),
                   probe_name: round(float(rng.uniform(2.0, 9.0)), 3)}

    # Measured before the student's table runs: a table that trains a model on the test images
    # changes what the model predicts afterwards.
    forest_pred = np.asarray(sub.method(forest, "predict", flat(X_test)))
    want_forest = float((forest_pred == y_test).mean())
    logits = sub.predict(probe, X_test)
    want_probe = float((logits.argmax(axis=1) == y_test).mean())

    rows = _rows(sub.call("comparison_table", {forest_name: forest, probe_name: probe}, X_test, y_test,
                          fit_seconds))
    refitted = {forest_name: not np.array_equal(np.asarray(sub.method(forest, "predict", flat(X_test))),
                                                forest_pred),
                probe_name: not np.allclose(sub.predict(probe, X_test), logits, atol=1e-5)}

    names = [r.get("model") for r in rows]
    t.check(names == [forest_name, probe_name]
            and all(r.get("fit_seconds") == fit_seconds[n] for r, n in zip(rows, names)),
            "one row per model, in the dict's order, with its name and the fit_seconds given", points=1,
            detail=f"models {names}",
            hint='rows look like {"model": name, "fit_seconds": s, "test_accuracy": a}, one per models.items(), '
                 "in that order (not sorted)")
    reported = {r.get("model"): r.get("test_accuracy") for r in rows}
    X_train, y_train = data.X_train.numpy(), data.y_train.numpy()

    def training_accuracies(name) -> list[float]:
        """What a table that measured on training data would show (the fit subset or the whole set)."""
        if name == forest_name:
            return [float((np.asarray(sub.method(forest, "predict", flat(X))) == y).mean())
                    for X, y in ((X_fit, y_fit), (X_train, y_train))]
        return [float((sub.predict(probe, X_train).argmax(axis=1) == y_train).mean())]

    train_mode = float((logits.argmin(axis=1) == y_test).mean())   # the probe outside eval/no_grad
    for name, want, what, how in (
            (forest_name, want_forest, "the forest's", "flattened for the forest"),
            (probe_name, want_probe, "the network's", "in eval mode without gradients")):
        got = reported.get(name)
        got = float(got) if isinstance(got, (int, float)) and not isinstance(got, bool) else float("nan")
        hint = f"use the test images and labels passed in, {how}, and report a fraction between 0 and 1"
        if abs(got - want) > 1e-9:
            if refitted[name]:
                hint = ("comparison_table changed the model: it was trained (fitted) on the test images. "
                        "Only measure here; a model trained on its test set scores what it memorised")
                t.review(f"comparison_table trains {what} model on the test images it measures it on")
            elif abs(got - 100 * want) < 1e-6:
                hint = "report the accuracy as a fraction between 0 and 1, not a percentage"
            elif name == probe_name and abs(got - train_mode) < 1e-9:
                hint = ("the network was evaluated in training mode or with gradients on: "
                        "call model.eval() and use torch.no_grad()")
            elif any(abs(got - a) < 1e-9 for a in training_accuracies(name)):
                hint = "this is the accuracy on the training data: measure it on X_test, y_test"
                t.review(f"the comparison table reports a training accuracy as {what} test accuracy")
        t.check(abs(got - want) < 1e-9, f"{what} test accuracy is measured on the test images given, {how}",
                points=1, detail=f"reported {got:.4g}, measured here {want:.4g}", hint=hint)


# -- Q4 -------------------------------------------------------------------------------------

Q4_PROMPT = "For which problems would you prefer a Random Forest to a neural network, and why?"


@question("q4", points=2, title="Short answer: when to prefer a Random Forest")
def q4(sub, t):
    grade_short_answer(sub, t, "q4", points=2, prompt=Q4_PROMPT)
