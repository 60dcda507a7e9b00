"""Detecting notebooks that change dlgrade's or torch's own objects."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from dlgrade.harness import integrity  # noqa: E402
from dlgrade.harness.questions import question, run_question  # noqa: E402
from dlgrade.harness.submission import LocalSubmission  # noqa: E402


def test_fingerprints_survive_ordinary_use_of_torch_and_dlgrade():
    """Do training, optimisers, data loaders, seeding and tracing leave the fingerprints unchanged (no false
    alarms from torch's own run-time wrappers)?"""
    from dlgrade.harness import netdesc
    from dlgrade.train import fit, seeded

    before = integrity.fingerprints()
    model = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 2))
    for opt in (torch.optim.SGD(model.parameters(), lr=0.1), torch.optim.Adam(model.parameters())):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(torch.randn(4, 2)), torch.tensor([0, 1, 0, 1])).backward()
        opt.step()
    torch.manual_seed(3)
    with seeded(1), torch.no_grad():
        netdesc.rebuild(netdesc.describe(model, torch.randn(3, 2)))
    fit(torch.nn.Linear(2, 2), (torch.randn(8, 2), torch.tensor([0, 1] * 4)),
        {"optimizer": "sgd", "lr": 0.1, "batch_size": 4, "epochs": 1}, seed=0)
    list(torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.randn(4, 2)), batch_size=2))
    assert integrity.compare(integrity.fingerprints(), before) == []


def test_replaced_functions_change_their_fingerprint(monkeypatch):
    """Does replacing a dlgrade function or a torch method (even one wrapped to look like the original)
    show up as changed?"""
    import functools

    from dlgrade.harness import factories

    before = integrity.fingerprints()
    original = torch.nn.Module.eval
    monkeypatch.setattr(torch.nn.Module, "eval", functools.wraps(original)(lambda self: self))
    monkeypatch.setattr(factories, "_probe", lambda *args: None)
    changed = integrity.compare(integrity.fingerprints(), before)
    assert "torch.nn.Module" in changed and "dlgrade.harness.factories._probe" in changed


def test_source_scan_follows_aliases():
    """Does the scan find assignments into dlgrade/torch objects through import aliases, setattr and
    sys.modules, and leave the student's own objects and torch.backends settings alone?"""
    cells = ["import torch\nimport torch.nn as nn\nfrom dlgrade.harness import factories as f\nimport sys",
             "nn.Module.eval = lambda s: s\nf._probe = 1\nsetattr(torch.nn.Module, 'train', None)\n"
             "sys.modules['dlgrade.harness.factories'].make_mlp = 3\n"
             "torch.backends.cudnn.benchmark = True\nmodel = nn.Linear(2, 2)\nmodel.weight.data = model.weight * 2\n"
             "opt = torch.optim.SGD\nopt.step = None\n%matplotlib inline"]
    found = integrity.scan_sources(cells)
    assert found == ["cell 2: torch.nn.Module.eval", "cell 2: dlgrade.harness.factories._probe",
                     "cell 2: dlgrade.harness.factories.make_mlp", "cell 2: torch.optim.SGD.step",
                     "cell 2: torch.nn.Module.train"]


@question("qp", points=2, title="uses a probe")
def _uses_probe(sub, t):
    sub.make("mode_probe", 2, 2, seed=0)
    t.check(True, "passes", points=2)


@question("qc", points=1, title="plain call")
def _plain_call(sub, t):
    t.check(sub.call("f") == 1, "f() is 1", points=1)


def test_question_using_dlgrade_objects_is_zeroed_and_flagged_when_the_notebook_patches():
    """Is a question that used dlgrade's objects held at 0 and flagged when the notebook assigns into dlgrade,
    while a question that only called the student's functions keeps its points?"""
    sub = LocalSubmission({"f": lambda: 1}, sources=["import dlgrade.harness.factories as fx\nfx._probe = None"])
    probe = run_question(_uses_probe.__dlgrade_question__, sub)
    plain = run_question(_plain_call.__dlgrade_question__, sub)
    assert probe.earned == 0 and probe.needs_review
    assert "dlgrade.harness.factories._probe" in probe.checks[-1].detail
    assert plain.earned == 1 and not plain.needs_review
    clean = LocalSubmission({"f": lambda: 1}, sources=["x = np.zeros(3)"])
    assert run_question(_uses_probe.__dlgrade_question__, clean).earned == 2
