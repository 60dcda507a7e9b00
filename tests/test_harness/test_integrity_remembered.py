"""The integrity check's remembered fingerprints (``integrity.remember``): after it, a check only tests the
objects the fingerprints were computed from, and must give exactly what describing everything gives."""
from __future__ import annotations

import functools
import sys
import types

import pytest

torch = pytest.importorskip("torch")

from dlgrade.harness import factories, integrity, ops, values  # noqa: E402
from dlgrade.train import engine  # noqa: E402


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
    """Do training, seeding, optimisers, tracing and a fit leave every remembered object in place, so that
    the quick test is the one that answers (and gives the remembered digests)?"""
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
    fit(torch.nn.Linear(2, 2), (torch.randn(8, 2), torch.tensor([0, 1] * 4)),
        {"optimizer": "adam", "lr": 0.1, "batch_size": 4, "epochs": 1}, seed=0)
    assert integrity._REMEMBERED[0][1].hold()
    assert integrity.fingerprints() == remembered == integrity._fingerprints(None)


def test_forget_describes_everything_again(remembered):
    """Without what remember() kept, does a check describe everything (and agree)?"""
    integrity.forget()
    assert not integrity._REMEMBERED
    assert integrity.fingerprints() == remembered
