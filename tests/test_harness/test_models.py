"""A model must reach the grader untrained."""
import numpy as np
import pytest

from dlgrade.harness import LocalSubmission, StudentError
from dlgrade.harness.models import require_untrained

CODE = '''
import torch, torch.nn as nn

class Memorised(nn.Module):
    """Stands for a model trained on the test images: reads the label hidden in pixel 0."""
    def forward(self, x):
        return 10.0 * nn.functional.one_hot(x[:, 0].long(), 10).float()

def build_cheat():
    return Memorised()

def build_honest():
    return nn.Sequential(nn.Flatten(), nn.Linear(4, 10))
'''


@pytest.fixture()
def sub():
    ns = {}
    exec(compile(CODE, "<cell 1>", "exec"), ns)
    return LocalSubmission(ns)


def test_pre_trained_model_is_refused_and_a_fresh_one_passes(sub):
    """Is a builder that returns an already-accurate model stopped, while a fresh model goes through?"""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 200)
    X = rng.normal(size=(200, 4)).astype(np.float32)
    X[:, 0] = y
    with pytest.raises(StudentError, match="before any training"):
        require_untrained(sub, sub.call_with("build_cheat", seed=0), X, y, what="build_cheat()")
    require_untrained(sub, sub.call_with("build_honest", seed=0), X, y, what="build_honest()")


def test_grader_network_trains_and_scores_in_this_process():
    """Does a network described by the student's side train here (the grader's data, the recipe) and come
    back untouched by the student's process, whose own copy stays untrained?"""
    from types import SimpleNamespace

    import torch

    from dlgrade.harness.models import grader_network, network_logits, train_network
    from dlgrade.harness.submission import LocalSubmission

    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]] * 4, np.float32)
    y = np.array([0, 1, 1, 0] * 4)
    built = []
    ns = {"build": lambda: built.append(torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(),
                                                          torch.nn.Linear(8, 2))) or built[-1]}
    ctx = SimpleNamespace(data=lambda name: (torch.as_tensor(X), torch.as_tensor(y)), device="cpu",
                          recipe=lambda name: {"optimizer": "adam", "lr": 0.1, "batch_size": 16, "epochs": 100,
                                               "full_batch": True})
    net = grader_network(LocalSubmission(ns), "build", sample=X[:4], seed=0)
    summary = train_network(net, ctx, "xor", "xor", seed=0)
    assert summary["stopped"] == "completed" and ctx.train_seconds > 0
    assert (network_logits(net, ctx, X).argmax(1) == y).all()
    assert not any(torch.equal(a, b) for a, b in zip(built[0].parameters(), net.module.parameters()))


def test_training_failures_are_the_students():
    """Is a network that cannot train on the grader's data (wrong input size) a StudentError, not a grader bug?"""
    from types import SimpleNamespace

    import torch

    from dlgrade.harness.models import train_network
    from dlgrade.harness.netdesc import describe, rebuild

    net = rebuild(describe(torch.nn.Sequential(torch.nn.Linear(3, 2)), torch.zeros(1, 3)))
    ctx = SimpleNamespace(data=lambda name: (torch.zeros(4, 2), torch.zeros(4, dtype=torch.long)), device="cpu",
                          recipe=lambda name: {"optimizer": "sgd", "lr": 0.1, "batch_size": 4, "epochs": 1})
    with pytest.raises(StudentError, match="could not train"):
        train_network(net, ctx, "xor", "xor", seed=0)


def _blobs_ctx(**recipe):
    from types import SimpleNamespace

    import torch

    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 8)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    base = {"optimizer": "adam", "lr": 0.01, "batch_size": 16, "epochs": 2}
    return SimpleNamespace(data=lambda name: (torch.as_tensor(X), torch.as_tensor(y)), device="cpu",
                           recipe=lambda name: base | recipe)


def _net(width: int):
    import torch

    from dlgrade.harness.netdesc import describe, rebuild

    module = torch.nn.Sequential(torch.nn.Linear(8, width), torch.nn.ReLU(), torch.nn.Linear(width, 2))
    return rebuild(describe(module, torch.zeros(1, 8)))


def test_network_above_the_compute_limit_is_refused_by_its_size_not_by_a_clock():
    """Is a network above the recipe's max_flops refused with its measured cost, while one below trains?"""
    from dlgrade.harness.models import train_network

    small, large = _net(16), _net(4096)
    assert small.flops((8,)) == 2 * (8 * 16 + 16 * 2)
    ctx = _blobs_ctx(max_flops=10_000)
    assert train_network(small, ctx, "blobs", "r", seed=0)["stopped"] == "completed"
    with pytest.raises(StudentError, match=r"needs 81\.9 kFLOP per blobs example.*at most 10 kFLOP") as info:
        train_network(large, ctx, "blobs", "r", seed=0)
    assert info.value.kind == "bad_output"


def test_a_training_stopped_by_the_clock_is_the_graders_problem():
    """Does a grader-side training cut short by max_seconds become a grader_error (for review), never a score?"""
    from dlgrade.harness.models import train_network

    ctx = _blobs_ctx(epochs=10_000, batch_size=1, max_seconds=0.05)
    with pytest.raises(StudentError, match="safety limit") as info:
        train_network(_net(16), ctx, "blobs", "r", seed=0)
    assert info.value.kind == "grader_error"


def _counting_builder():
    """A notebook namespace whose ``build(width)`` notes each call in ``calls``, its submission, a sample."""
    ns = {}
    exec(compile("import torch.nn as nn\ncalls = []\ndef build(width, scale=None):\n    calls.append(width)\n"
                 "    return nn.Sequential(nn.Linear(4, int(width)), nn.ReLU(), nn.Linear(int(width), 3))\n",
                 "<cell 1>", "exec"), ns)
    return ns, LocalSubmission(ns), np.zeros((2, 4), np.float32)


def test_a_builder_is_described_once_per_submission_and_rebuilt_under_each_seed():
    """Does grader_network call the student's builder once for the same plain arguments (another seed
    rebuilds the same description, initialised under that seed), again for other arguments, and every
    time when an argument is an array (which cannot be told apart by its text)?"""
    import torch

    from dlgrade.harness.models import grader_network

    ns, sub, sample = _counting_builder()
    a = grader_network(sub, "build", (8,), sample=sample, seed=1)
    b = grader_network(sub, "build", (8,), sample=sample, seed=2)
    assert ns["calls"] == [8] and a.text == b.text
    assert not torch.equal(a.module.state_dict()["0.weight"], b.module.state_dict()["0.weight"])
    again = grader_network(sub, "build", (8,), sample=sample, seed=1)
    assert torch.equal(a.module.state_dict()["0.weight"], again.module.state_dict()["0.weight"])
    grader_network(sub, "build", (16,), sample=sample, seed=1)
    assert ns["calls"] == [8, 16]
    for _ in range(2):
        grader_network(sub, "build", (8,), {"scale": np.ones(3)}, sample=sample, seed=1)
    assert ns["calls"] == [8, 16, 8, 8]


def test_a_network_already_built_is_described_and_stays_the_callers():
    """With ``built=``, does grader_network describe that object instead of calling the builder again, keep
    the description for the next call, and leave the object usable? With ``weights=False``, is the network
    checked and described but built without weights?"""
    import torch

    from dlgrade.harness.models import grader_network

    ns, sub, sample = _counting_builder()
    model = sub.call_with("build", (8,), seed=0)
    look = grader_network(sub, "build", (8,), sample=sample, seed=0, built=model, weights=False)
    assert ns["calls"] == [8] and look.params == 4 * 8 + 8 + 8 * 3 + 3
    assert {p.device.type for p in look.module.parameters()} == {"meta"}
    assert sub.predict(model, sample).shape == (2, 3)              # not released: still the caller's
    trained = grader_network(sub, "build", (8,), sample=sample, seed=1)
    assert ns["calls"] == [8] and trained.text == look.text
    assert {p.device.type for p in trained.module.parameters()} == {"cpu"}
    assert torch.isfinite(trained.module(torch.zeros(2, 4))).all()


def test_grader_training_adds_up_its_seconds_even_when_the_block_fails():
    """Does each grader_training block add its seconds to ctx.train_seconds, also when it raises?"""
    import time
    from types import SimpleNamespace

    from dlgrade.harness.models import grader_training

    ctx = SimpleNamespace()
    with grader_training(ctx):
        time.sleep(0.05)
    first = ctx.train_seconds
    assert first >= 0.05
    with pytest.raises(ValueError), grader_training(ctx):
        time.sleep(0.05)
        raise ValueError("boom")
    assert ctx.train_seconds >= first + 0.05


@pytest.mark.parametrize("uses_view", [True, False])
def test_rebuilt_networks_are_scored_whether_or_not_they_view_their_feature_maps(uses_view):
    """Does a rebuilt CNN whose forward calls x.view after a convolution score (its images keep their
    layout), does one without view take them channels-last, and do both give the network's own logits?"""
    from types import SimpleNamespace

    import torch
    from torch import nn

    from dlgrade.harness import netdesc
    from dlgrade.harness.models import _no_view, network_logits

    class ViewAfterConv(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)
            self.flat = nn.Flatten()
            self.fc = nn.Linear(4 * 6 * 6, 10)

        def forward(self, x):
            x = self.conv(x)
            return self.fc(x.view(x.size(0), -1) if uses_view else self.flat(x))

    X = np.random.default_rng(0).random((300, 3, 8, 8), dtype=np.float32)
    net = netdesc.rebuild(netdesc.describe(ViewAfterConv(), torch.as_tensor(X[:4])), seed=0)
    assert _no_view(net) is not uses_view
    got = network_logits(net, SimpleNamespace(threads=1, device="cpu"), X)
    with torch.no_grad():
        want = net.module.eval()(torch.as_tensor(X)).numpy()
    np.testing.assert_allclose(got, want, atol=1e-5)
