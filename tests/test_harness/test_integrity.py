"""Detecting notebooks that change dlgrade's or torch's own objects."""
from __future__ import annotations

import functools
import sys
import types

import pytest

torch = pytest.importorskip("torch")

from dlgrade.harness import factories, integrity, ops, values  # noqa: E402
from dlgrade.harness.questions import question, run_question  # noqa: E402
from dlgrade.harness.submission import LocalSubmission  # noqa: E402
from dlgrade.train import engine  # noqa: E402


def ordinary_use() -> None:
    """Training, optimisers, data loaders, seeding and tracing, as notebooks and hidden tests use them."""
    from dlgrade.harness import netdesc
    from dlgrade.train import fit, seeded

    model = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 2))
    for opt in (torch.optim.SGD(model.parameters(), lr=0.1), torch.optim.Adam(model.parameters())):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(torch.randn(4, 2)), torch.tensor([0, 1, 0, 1])).backward()
        opt.step()
    torch.manual_seed(3)
    with seeded(1), torch.no_grad():
        netdesc.rebuild(netdesc.describe(model, torch.randn(3, 2)))
    for optimizer in ("sgd", "adam"):
        fit(torch.nn.Linear(2, 2), (torch.randn(8, 2), torch.tensor([0, 1] * 4)),
            {"optimizer": optimizer, "lr": 0.1, "batch_size": 4, "epochs": 1}, seed=0)
    list(torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.randn(4, 2)), batch_size=2))


def test_fingerprints_survive_ordinary_use_of_torch_and_dlgrade():
    """Does ordinary use leave the fingerprints unchanged (no false alarms from torch's own run-time
    wrappers)?"""
    before = integrity.fingerprints()
    ordinary_use()
    assert integrity.compare(integrity.fingerprints(), before) == []


def test_replaced_functions_change_their_fingerprint(monkeypatch):
    """Does replacing a dlgrade function or a torch method (even one wrapped to look like the original)
    show up as changed?"""
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
    assert found == [f"the notebook assigns to cell 2: {target}" for target in (
        "torch.nn.Module.eval", "dlgrade.harness.factories._probe", "dlgrade.harness.factories.make_mlp",
        "torch.optim.SGD.step", "torch.nn.Module.train")]


def test_code_too_deep_to_parse_is_a_finding_not_a_crash():
    """Python's parser gives up on deeply nested code (RecursionError, MemoryError): is such a cell a finding
    (it could hide an assignment from the scan), not a grader failure, while a cell that is not Python (it
    never runs) is skipped?"""
    cells = ["x = " + "1 + " * 20000 + "1", "y = " + "-" * 20000 + "1", "this is not python", "import torch"]
    assert integrity.scan_sources(cells) == ["cell 1 is nested too deeply to be checked",
                                             "cell 2 is nested too deeply to be checked"]


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


# -- remembered fingerprints (integrity.remember): after it, a check only tests the objects the
# fingerprints were computed from, and must give exactly what describing everything gives.

@pytest.fixture()
def remembered():
    ops._first_use_of_torch()
    digests = integrity.remember()
    yield digests
    integrity.forget()


def _closure_cell():
    """A cell of a watched function's closure, and what it holds."""
    reads = integrity._REMEMBERED[0][1]
    cell, contents = next((c, v) for c, v in reads.cells if v is not integrity._MISSING)
    return cell, contents


def _set(obj, name, value):
    original = getattr(obj, name)
    setattr(obj, name, value)
    return lambda: setattr(obj, name, original)


def _forged(*args, **kwargs):
    return None


def _kwdefault():
    engine.fit.__kwdefaults__["device"] = "cuda"                        # in place: same dict object
    return lambda: engine.fit.__kwdefaults__.__setitem__("device", "auto")


def _cell_contents():
    cell, contents = _closure_cell()
    cell.cell_contents = _forged
    return lambda: setattr(cell, "cell_contents", contents)


def _new_method():
    torch.nn.Module.sneaky = lambda self: self
    return lambda: delattr(torch.nn.Module, "sneaky")


def _factory_added():
    factories._FACTORIES["sneaky"] = _forged
    return lambda: factories._FACTORIES.pop("sneaky")


def _module_swapped():
    name = "dlgrade.train.engine"
    fake = types.ModuleType(name)
    fake.fit = _forged
    original = sys.modules[name]
    sys.modules[name] = fake
    return lambda: sys.modules.__setitem__(name, original)


MUTATIONS = {
    "a dlgrade function replaced": lambda: _set(factories, "_probe", _forged),
    "a function given other code": lambda: _set(values.encode, "__code__", _forged.__code__),
    "defaults replaced": lambda: _set(engine.fit, "__defaults__", (1,)),
    "a keyword default changed in place": _kwdefault,
    "a closure cell refilled": _cell_contents,
    "a torch method wrapped to look the same": lambda: _set(
        torch.nn.Module, "eval", functools.wraps(torch.nn.Module.eval)(lambda self: self)),
    "a method added to a torch class": _new_method,
    "a torch function replaced in its module": lambda: _set(torch.nn.functional, "relu", _forged),
    "a class renamed": lambda: _set(torch.nn.Linear, "__qualname__", "Linear2"),
    "a grader object added": _factory_added,
    "a module replaced in sys.modules": _module_swapped,
}


@pytest.mark.parametrize("mutation", MUTATIONS)
def test_a_remembered_check_sees_every_change_a_full_one_sees(remembered, mutation):
    """After each kind of change, is the remembered check's answer exactly the full description's, and
    different from what was remembered? And back to the remembered digests once the change is undone?"""
    undo = MUTATIONS[mutation]()
    try:
        quick, full = integrity.fingerprints(), integrity._fingerprints(None)
    finally:
        undo()
    assert quick == full
    assert integrity.compare(quick, remembered)
    assert integrity._REMEMBERED[0][1].hold()
    assert integrity.fingerprints() == remembered


def test_ordinary_use_keeps_the_remembered_objects(remembered):
    """Does ordinary use leave every remembered object in place, so that the quick test is the one that
    answers (and gives the remembered digests)?"""
    ordinary_use()
    assert integrity._REMEMBERED[0][1].hold()
    assert integrity.fingerprints() == remembered == integrity._fingerprints(None)


def test_forget_describes_everything_again(remembered):
    """Without what remember() kept, does a check describe everything (and agree)?"""
    integrity.forget()
    assert not integrity._REMEMBERED
    assert integrity.fingerprints() == remembered
