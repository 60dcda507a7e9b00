"""Do attacks on the networks the grader trains, and on dlgrade's objects in the student's process, earn
only their honest points? Each runs through one sandboxed Worker, as in a batch.

The exercise (``net``): q1 ``add(a, b)`` (2 points, from the main corpus); qe ``evaluate(model, X)`` on
dlgrade's eval-mode probe (2 points); qn ``build_net()`` described, rebuilt, trained and scored by the
grader on the moons (3 points, threshold 0.9) with a recipe too weak to reach the threshold honestly:
whatever reaches it came from somewhere other than the grader's training.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the corpus beside this file (import mode: importlib)
from attacks import ADD, SETUP, build_notebook, q1  # noqa: E402
from test_adversarial import paths, worker  # noqa: E402,F401 - the sandboxed Worker and its folders

from dlgrade.harness import question  # noqa: E402
from dlgrade.harness.context import Context  # noqa: E402
from dlgrade.harness.course import Exercise, Profile  # noqa: E402
from dlgrade.harness.models import grader_network, network_logits, train_network  # noqa: E402
from dlgrade.harness.questions import run_question  # noqa: E402

REPO = Path(__file__).resolve().parents[3]
WEAK_RECIPE = {"optimizer": "sgd", "lr": 1e-5, "batch_size": 64, "epochs": 1}
"""One epoch of tiny SGD steps: a freshly initialised network stays far below 0.9 on the moons."""


@question("qe", points=2, title="evaluate() runs the model in eval mode, without gradients")
def qe(sub, t):
    rng = t.ctx.rng("qe")
    X = rng.normal(size=(64, 2)).astype(np.float32)
    probe = sub.make("mode_probe", 2, 2, seed=int(rng.integers(1 << 30)))
    state = sub.state_dict(probe)
    logits = X @ np.asarray(state["fc.weight"]).T + np.asarray(state["fc.bias"])
    sub.method(probe, "train")
    got = float(sub.call("evaluate", probe, X, logits.argmax(1)))
    t.check(got == 1.0, "a model that is right only in eval mode under no_grad scores 1.0", points=2,
            detail=f"got {got}")


@question("qn", points=3, title="build_net(): a network the grader trains on the moons")
def qn(sub, t):
    X, y = t.ctx.heldout("moons", 200)
    net = grader_network(sub, "build_net", sample=X[:4], seed=0)
    train_network(net, t.ctx, "moons", "weak", seed=0)
    accuracy = float((network_logits(net, t.ctx, X).argmax(1) == y).mean())
    t.at_least("net_accuracy", accuracy, "the network trained by the grader classifies the moons", points=3)


QUESTIONS = [q1.__dlgrade_question__, qe.__dlgrade_question__, qn.__dlgrade_question__]

EVALUATE = '''import torch

def evaluate(model, X, y):
    model.eval()
    with torch.no_grad():
        return float((model(torch.as_tensor(X)).argmax(1) == torch.as_tensor(y)).float().mean())'''
EVALUATE_NO_EVAL = '''import torch

def evaluate(model, X, y):
    return float((model(torch.as_tensor(X)).argmax(1) == torch.as_tensor(y)).float().mean())'''
NET = '''import torch.nn as nn

def build_net():
    return nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 2))'''
PRETRAIN = '''import torch, torch.nn as nn
from dlgrade.data import load

def _pretrained():
    moons = load("moons")
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 2))
    opt = torch.optim.Adam(net.parameters(), lr=0.02)
    for _ in range(300):
        opt.zero_grad()
        nn.functional.cross_entropy(net(moons.X_train), moons.y_train).backward()
        opt.step()
    return {k: v.detach().clone() for k, v in net.state_dict().items()}

SMUGGLED = _pretrained()'''
SMUGGLED_WEIGHTS = PRETRAIN + '''

def build_net():
    net = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 2))
    net.load_state_dict(SMUGGLED)
    return net'''
LAZY_WEIGHTS = PRETRAIN + '''

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 2))
        self.loaded = False

    def forward(self, x):
        if self.training and not self.loaded:      # after require_untrained has looked
            self.body.load_state_dict(SMUGGLED)
            self.loaded = True
        return self.body(x)

def build_net():
    return Net()'''
DETECTS_GRADING = PRETRAIN + '''
import os, sys, torch.fx

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 2))
        self.answer = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 2))
        self.answer.load_state_dict(SMUGGLED)
        for p in self.answer.parameters():
            p.requires_grad_(False)

    def forward(self, x):
        grading = isinstance(x, torch.fx.Proxy) or os.environ.get("DLGRADE_GRADING") or any(
            "dlgrade" in f.f_code.co_filename for f in [sys._getframe(i) for i in range(1, 6)])
        if grading:
            return self.answer(x) + 0 * self.body(x)
        return self.body(x)

def build_net():
    return Net()'''
FORMULA_FORWARD = '''import torch, torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 2)

    def forward(self, x):                 # the moons by formula: above or below a sine wave
        score = x[:, 1] - 0.5 * torch.cos(3.0 * x[:, 0]) - 0.25
        return self.fc(x) * 0 + torch.stack([score, -score], 1)

def build_net():
    return Net()'''
PATCH_PROBE = '''import dlgrade.harness.factories

_real = dlgrade.harness.factories._probe
dlgrade.harness.factories._probe = lambda n_in, n_out, wrong_when: _real(n_in, n_out, ())'''
PATCH_PROBE_HIDDEN = '''import importlib
_m = importlib.import_module("dlgrade.harness." + "factories")
_real = getattr(_m, "_probe")
exec("_m._pr" + "obe = lambda a, b, w: _real(a, b, ())")'''
PATCH_TORCH = '''import torch.nn as nn

nn.Module.train = lambda self, mode=True: self.eval() if False else (setattr(self, "training", False) or self)
import torch
torch.is_grad_enabled = lambda: False'''

FAKE_LAYERS = '''import torch, torch.nn as nn

class _Fake(nn.Module):
    """Claims to be a torch layer (module and class name, constructor attributes, parameter count),
    but its forward costs nothing on the student's side."""
    def __init__(self, numel, out, **attrs):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(numel))
        self._out = out
        for k, v in attrs.items():
            object.__setattr__(self, k, v)

    def forward(self, x):
        return self._out(x)

def _claim(name, module):
    return type(name, (_Fake,), {"__module__": module})

Linear, Conv2d, ReLU = (_claim("Linear", "torch.nn.modules.linear"), _claim("Conv2d", "torch.nn.modules.conv"),
                        _claim("ReLU", "torch.nn.modules.activation"))

def linear(n_in, n_out):
    return Linear(n_in * n_out + n_out, lambda x: torch.zeros(x.shape[0], n_out), in_features=n_in,
                  out_features=n_out, bias=torch.zeros(1))
'''
COSTLY_FORWARD = FAKE_LAYERS + '''
class Net(nn.Module):            # 8 passes of one 64-channel 3x3 convolution over 64x64 maps: 2.4 GFLOP per point
    def __init__(self):
        super().__init__()
        self.up, self.head = linear(2, 64 * 64 * 64), linear(64, 2)
        self.conv = Conv2d(64 * 64 * 9 + 64, lambda x: x, in_channels=64, out_channels=64, kernel_size=(3, 3),
                           stride=(1, 1), padding=(1, 1), dilation=(1, 1), groups=1, bias=torch.zeros(1),
                           padding_mode="zeros")

    def forward(self, x):
        x = self.up(x).view(x.size(0), 64, 64, 64)
        for _ in range(8):
            x = self.conv(x)
        return self.head(x.mean((2, 3)))

def build_net():
    return Net()'''
HUGE_ACTIVATIONS = FAKE_LAYERS + '''
class Net(nn.Module):            # a million numbers per point, then 20 activations of them: 21 million per point
    def __init__(self):
        super().__init__()
        self.up, self.head = linear(2, 1 << 20), linear(1 << 20, 2)
        self.act = ReLU(0, lambda x: x)

    def forward(self, x):
        x = self.up(x)
        for _ in range(20):
            x = self.act(x)
        return self.head(x)

def build_net():
    return Net()'''


@dataclass(frozen=True)
class NetAttack:
    """One attack on the networks or on dlgrade's objects, and the points it must end with."""

    name: str
    tries: str
    stopped_by: str
    cells: tuple
    earned: float
    expect: str = ""
    review: tuple = ()
    """Questions that must be flagged for review."""


def net_notebook(*cells) -> tuple:
    return (("import numpy as np\nDLGRADE_EXERCISE = 'net'", "setup"), (ADD, "answer"), *cells)


NET_ATTACKS = [
    NetAttack("lazy_weights", "a forward that loads pretrained weights on its first training-mode pass",
              "the grader rebuilds the network from torch's classes: no student code runs in training",
              net_notebook((EVALUATE, "answer"), (LAZY_WEIGHTS, "answer")), earned=4,
              expect="net_accuracy"),
    NetAttack("smuggled_weights", "a builder that returns a network with pretrained weights",
              "weights never travel: the rebuilt network is initialised under the grader's seed",
              net_notebook((EVALUATE, "answer"), (SMUGGLED_WEIGHTS, "answer")), earned=4,
              expect="net_accuracy"),
    NetAttack("detects_grading", "a forward that answers from frozen pretrained layers when it sees the grader",
              "the rebuilt network has only the described layers, trained from the grader's initialisation",
              net_notebook((EVALUATE, "answer"), (DETECTS_GRADING, "answer")), earned=4,
              expect="arithmetic on tensors"),
    NetAttack("formula_forward", "a forward that computes the answer by a formula on the inputs",
              "the whitelist: no indexing of tensors, no arithmetic with numbers",
              net_notebook((EVALUATE, "answer"), (FORMULA_FORWARD, "answer")), earned=4,
              expect="the grader cannot rebuild this network"),
    NetAttack("costly_forward", "layers that claim to be torch's (a forward that costs nothing on the student's "
              "side) whose description reuses a convolution over huge feature maps, to hold the grader's process",
              "the description's cost, counted on the meta device before the grader runs anything",
              net_notebook((EVALUATE, "answer"), (COSTLY_FORWARD, "answer")), earned=4,
              expect="its forward pass needs more than 1 GFLOP per example"),
    NetAttack("huge_activations", "the same claimed layers, producing millions of numbers per point, to exhaust the "
              "grader's memory in training",
              "the description's size, counted on the meta device before the grader runs anything",
              net_notebook((EVALUATE, "answer"), (HUGE_ACTIVATIONS, "answer")), earned=4,
              expect="more than 10,000,000 numbers per example"),
    NetAttack("patched_probe", "replace `dlgrade.harness.factories._probe` so the eval-mode probe is always right",
              "source scan of the notebook: the question is held at 0 for review",
              net_notebook((EVALUATE_NO_EVAL, "answer"), (PATCH_PROBE, "answer"), (NET, "answer")), earned=2,
              expect="dlgrade.harness.factories._probe", review=("qe", "qn")),
    NetAttack("patched_probe_hidden", "the same patch through importlib and exec, invisible to a source scan",
              "fingerprints of dlgrade's functions compared from the grader's side",
              net_notebook((EVALUATE_NO_EVAL, "answer"), (PATCH_PROBE_HIDDEN, "answer"), (NET, "answer")),
              earned=2, expect="has changed dlgrade.harness.factories._probe", review=("qe", "qn")),
    NetAttack("patched_torch", "replace `torch.nn.Module.train` and `torch.is_grad_enabled`",
              "source scan and fingerprints of torch's functions",
              net_notebook((EVALUATE_NO_EVAL, "answer"), (PATCH_TORCH, "answer"), (NET, "answer")), earned=2,
              expect="torch.nn.Module.train", review=("qe", "qn")),
]
HONEST = NetAttack("honest", "", "", net_notebook((EVALUATE, "answer"), (NET, "answer")), earned=4)


@pytest.fixture(scope="module")
def grade_net(worker, paths):  # noqa: F811 - the fixtures imported above
    profile = Profile("quick", 20.0, 10.0, {"moons": {}}, {"weak": WEAK_RECIPE})
    exercise = Exercise("net", "Network attacks", "net.ipynb", {"quick": profile}, paths["COURSE"])
    thresholds = {"net_accuracy": SimpleNamespace(value=0.9)}

    def run(attack: NetAttack):
        nb = build_notebook(attack.cells, paths)
        ctx = Context(exercise, "quick", student_id=attack.name, secret=b"grader secret", thresholds=thresholds)
        ctx.device = "cpu"
        with worker.open(nb, student_id=attack.name, time_limit=20, request_timeout=10) as sub:
            sub.sources = [c.source for c in nb.cells if c.cell_type == "code"]
            return [run_question(q, sub, ctx) for q in QUESTIONS], list(sub.cells)

    return run


def feedback(results, cells) -> str:
    parts = [r.error["message"] for r in results if r.error]
    parts += [f"{c.message} {c.detail}" for r in results for c in r.checks if not c.passed]
    return "\n".join(parts + [c.message for c in cells])


@pytest.mark.slow
@pytest.mark.parametrize("attack", [*NET_ATTACKS, HONEST], ids=lambda a: a.name)
def test_network_attack_earns_only_honest_points(attack, grade_net):
    """Does the attack end with exactly its honest points, say why, and flag the questions it tampered with?"""
    results, cells = grade_net(attack)
    text = feedback(results, cells)
    assert all(c.status == "ok" for c in cells), text
    assert sum(r.earned for r in results) == attack.earned, text
    assert attack.expect in text, text
    assert {r.id for r in results if r.needs_review} == set(attack.review), text


def test_docs_list_every_network_attack():
    """Does docs/security.md have a row for every network attack?"""
    text = (REPO / "docs" / "security.md").read_text()
    for attack in NET_ATTACKS:
        assert f"| `{attack.name}` |" in text, attack.name
