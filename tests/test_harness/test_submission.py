"""The Submission API answered in-process: calls, refs, errors, models."""
import time

import numpy as np
import pytest

from dlgrade.harness import LocalSubmission, StudentError, expect_array
from dlgrade.harness.errors import BadOutput

CODE = '''
import numpy as np, torch, torch.nn as nn
def add(a, b): return a + b
def build(h): return nn.Sequential(nn.Flatten(), nn.Linear(4, h), nn.ReLU(), nn.Linear(h, 3))
def stub(): raise NotImplementedError("use np.dot")
def boom(): return 1 / 0
def noisy(): return float(torch.rand(1))
def slow(): import time; time.sleep(0.2); return 1
value = 3
'''


@pytest.fixture()
def sub():
    ns = {}
    exec(compile(CODE, "<cell 1>", "exec"), ns)
    return LocalSubmission(ns)


def test_call_returns_plain_values(sub):
    """Does a call with an array argument return an array computed by the student's code?"""
    np.testing.assert_array_equal(sub.call("add", np.arange(3), 2), [2, 3, 4])
    assert sub.get("value") == 3 and sub.has("add") and not sub.has("nope")
    assert sub.signature("add") == ["a", "b"]


def test_a_call_that_trains_is_counted_as_training(sub):
    """Does a call or a grader object made with trains=True add its time to seconds["train"], and a plain
    one to "requests"?"""
    assert sub.call_with("slow", trains=True) == 1
    assert sub.seconds["train"] >= 0.2 and sub.seconds.get("requests", 0.0) < 0.2
    sub.call("slow")
    assert sub.seconds["requests"] >= 0.2 and sub.seconds["train"] < 0.4
    answer = sub._send
    sub._send = lambda op, fields, timeout: (time.sleep(0.2), answer(op, fields, timeout))[1]
    sub.make("mlp", [4, 3], trains=True)                 # a grader object that fits a model, say
    assert sub.seconds["train"] >= 0.4 and sub.seconds["requests"] < 0.4
    sub.make("mlp", [4, 3])
    assert sub.seconds["requests"] >= 0.4


@pytest.mark.parametrize("name, kind, text", [
    ("stub", "not_implemented", "use np.dot"),
    ("boom", "exception", "ZeroDivisionError"),
    ("missing", "missing", "not defined"),
    ("value", "bad_output", "should be a function"),
])
def test_failures_are_classified_for_the_student(sub, name, kind, text):
    """Does each way a call can fail raise a StudentError of the right kind with a readable message?"""
    with pytest.raises(StudentError) as info:
        sub.call(name)
    assert info.value.kind == kind and text in info.value.message


def test_exception_message_points_at_the_cell(sub):
    """Does the message say which cell and line raised?"""
    with pytest.raises(StudentError, match=r"cell 1, line 6"):
        sub.call("boom")


def test_models_stay_on_the_student_side_as_refs(sub):
    """Is a model returned as a Ref whose structure, state and predictions can be asked for?"""
    model = sub.call_with("build", (8,), seed=0)
    assert model.type.endswith("Sequential")
    info = sub.describe(model)
    assert info["params"] == 4 * 8 + 8 + 8 * 3 + 3
    assert [m["type"] for m in info["modules"]] == ["Flatten", "Linear", "ReLU", "Linear"]
    logits = sub.predict(model, np.zeros((5, 4), np.float32))
    assert logits.shape == (5, 3)
    state = sub.state_dict(model)
    assert tuple(state["1.weight"].shape) == (8, 4)


def test_seeded_calls_are_reproducible(sub):
    """Do two calls with the same seed give the same random draw, and different seeds differ?"""
    a = sub.call_with("noisy", seed=1)
    assert a == sub.call_with("noisy", seed=1)
    assert a != sub.call_with("noisy", seed=2)


def test_mode_probe_is_right_only_in_eval_mode_without_grad(sub):
    """Does the probe give the true predictions only under eval() and no_grad()?"""
    import torch

    probe = sub.make("mode_probe", 4, 3, seed=0)
    X = np.random.default_rng(0).normal(size=(6, 4)).astype(np.float32)
    right = sub.predict(probe, X)  # dlgrade.train.predict: eval + no_grad
    state = sub.state_dict(probe)
    expected = X @ state["fc.weight"].numpy().T + state["fc.bias"].numpy()
    np.testing.assert_allclose(right, expected, rtol=1e-5, atol=1e-6)
    raw = sub.method(probe, "forward", torch.from_numpy(X))  # train mode, grad on
    np.testing.assert_allclose(raw.numpy(), -expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("value, message", [
    ([[1, 2], [3]], "ragged"),
    (np.ones((2, 3)), "expected 3 rows"),
    (np.array([[np.nan, 1.0]]), "NaN"),
    ("text", "should be an array"),
])
def test_expect_array_names_the_problem(value, message):
    """Does expect_array reject each malformed output with a message saying what is wrong?"""
    with pytest.raises(BadOutput, match=message):
        expect_array(value, what="output", rows=3 if message == "expected 3 rows" else None)


def test_switch_probe_isolates_one_mistake(sub):
    """Is each switch probe wrong under exactly one condition: train mode, or autograd on?"""
    import torch

    X = torch.from_numpy(np.random.default_rng(1).normal(size=(4, 4)).astype(np.float32))
    for wrong_when in ("train", "grad"):
        probe = sub.make("switch_probe", 4, 3, wrong_when, seed=0)
        state = sub.state_dict(probe)
        expected = X.numpy() @ state["fc.weight"].numpy().T + state["fc.bias"].numpy()
        sub.method(probe, "train")  # training mode, autograd on: wrong in both probes
        np.testing.assert_allclose(sub.method(probe, "forward", X).numpy(), -expected, rtol=1e-5, atol=1e-6)
        sub.method(probe, "eval")   # eval mode, autograd on: only the "grad" probe is wrong
        sign = -1 if wrong_when == "grad" else 1
        np.testing.assert_allclose(sub.method(probe, "forward", X).numpy(), sign * expected, rtol=1e-5, atol=1e-6)
