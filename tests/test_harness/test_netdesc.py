"""Describing networks on the student side and rebuilding them from torch's classes on the grader's."""
from __future__ import annotations

import json
import operator

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

from dlgrade.harness import netdesc  # noqa: E402
from dlgrade.harness.errors import StudentError  # noqa: E402
from dlgrade.harness.submission import LocalSubmission  # noqa: E402


class WithForward(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(8 * 4 * 4, 10)
        self.drop = nn.Dropout(0.3)

    def forward(self, x):
        x = self.pool(F.relu(self.bn(self.conv(x))))
        x = x.view(x.size(0), -1)
        return self.fc(self.drop(x))


class ModuleListNet(nn.Module):
    def __init__(self, sizes=(2, 16, 8)):
        super().__init__()
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.out = nn.Linear(sizes[-1], 2)

    def forward(self, x):
        for layer in self.hidden:
            x = torch.relu(layer(x))
        return self.out(x)


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(6, 6)
        self.b = nn.Linear(6, 6)
        self.head = nn.Linear(12, 3)

    def forward(self, x):
        h = x + F.gelu(self.a(x))
        h = torch.cat([h, torch.tanh(self.b(h))], dim=1)
        return self.head(F.dropout(h, 0.2, self.training))


class Pooled(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(2))
        self.head = nn.LazyLinear(5)

    def forward(self, x):
        return self.head(torch.flatten(self.features(x), 1))


STYLES = {
    "sequential": (lambda: nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 2)), (5, 2)),
    "sequential_cnn": (lambda: nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(),
        nn.AvgPool2d(2), nn.Flatten(), nn.Linear(16 * 2 * 2, 10)), (4, 3, 8, 8)),
    "class_with_forward": (WithForward, (4, 3, 8, 8)),
    "module_list": (ModuleListNet, (5, 2)),
    "lazy_linear": (lambda: nn.Sequential(nn.Flatten(), nn.LazyLinear(16), nn.ReLU(), nn.LazyLinear(10)),
                    (4, 1, 6, 6)),
    "batchnorm_dropout_mlp": (lambda: nn.Sequential(nn.Flatten(), nn.Linear(12, 8), nn.BatchNorm1d(8), nn.ReLU(),
                                                    nn.Dropout(0.5), nn.Linear(8, 3)), (6, 3, 4)),
    "residual_cat_functional_dropout": (Residual, (5, 6)),
    "nested_lazy_pooling": (Pooled, (3, 3, 6, 6)),
    "bare_linear": (lambda: nn.Linear(3, 2), (4, 3)),
    "layernorm_leaky": (lambda: nn.Sequential(nn.Linear(4, 6), nn.LayerNorm(6), nn.LeakyReLU(0.1),
                                              nn.Linear(6, 2)), (3, 4)),
}


def roundtrip(model, sample, seed=0):
    text = netdesc.describe(model, sample)
    return text, netdesc.rebuild(text, seed=seed)


def copy_weights(model, rebuilt):
    """The student's weights in the rebuilt network (bare layers are wrapped as layer '0')."""
    state = model.state_dict()
    target = rebuilt.module.state_dict()
    if set(state) != set(target):
        state = {f"0.{k}": v for k, v in state.items()}
    rebuilt.module.load_state_dict(state)


@pytest.mark.parametrize("style", STYLES)
def test_every_valid_style_rebuilds_exactly(style):
    """Does each accepted way of writing a network rebuild into one that computes the same outputs from the
    same weights, in eval and in training mode (dropout seeded alike)?"""
    make, shape = STYLES[style]
    torch.manual_seed(0)
    model = make()
    sample = torch.randn(*shape)
    _, rebuilt = roundtrip(model, sample)
    assert sum(p.numel() for p in rebuilt.module.parameters()) == sum(p.numel() for p in model.parameters())
    copy_weights(model, rebuilt)
    model.eval(), rebuilt.module.eval()
    with torch.no_grad():
        assert torch.equal(model(sample), rebuilt.module(sample))
    model.train(), rebuilt.module.train()
    torch.manual_seed(1)
    want = model(sample)
    torch.manual_seed(1)
    got = rebuilt.module(sample)
    assert torch.allclose(want, got, atol=1e-6)


def test_rebuilt_network_holds_only_torch_classes():
    """Is every module of a rebuilt network one of torch's own classes (or fx's containers), none of the
    student's?"""
    _, rebuilt = roundtrip(WithForward(), torch.randn(2, 3, 8, 8))
    for _, sub in rebuilt.module.named_modules():
        assert type(sub).__module__.startswith("torch."), type(sub)


def test_weights_do_not_travel():
    """Do weights the builder set (smuggled in) vanish, replaced by the grader's seeded initialisation?"""
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 2))
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(7.0)
    text, rebuilt = roundtrip(model, torch.zeros(3, 2), seed=5)
    assert "7.0" not in text
    torch.manual_seed(5)
    fresh = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 2))
    for a, b in zip(fresh.parameters(), rebuilt.module.parameters()):
        assert torch.equal(a, b)


class DataBranch(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 2)

    def forward(self, x):
        return self.fc(x) if x.sum() > 0 else -self.fc(x)


class ModeBranch(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 2)
        self.other = nn.Linear(2, 2)

    def forward(self, x):
        return self.fc(x) if self.training else self.other(x)


class OwnWeight(nn.Module):
    def __init__(self):
        super().__init__()
        self.W = nn.Parameter(torch.randn(2, 2))

    def forward(self, x):
        return x @ self.W


class MyLinear(nn.Linear):
    def forward(self, x):
        return super().forward(x) * 2


class ListLayers(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = [nn.Linear(2, 4)]
        self.out = nn.Linear(4, 2)

    def forward(self, x):
        return self.out(torch.relu(self.hidden[0](x)))


class Formula(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 2)

    def forward(self, x):
        return self.fc(x) * 0 + torch.stack([x[:, 0], x[:, 1]], 1)


class Buffer(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 2)
        self.register_buffer("table", torch.ones(2))

    def forward(self, x):
        return self.fc(x) + self.table


REFUSED = {
    "data_dependent_branch": (DataBranch, "depends on the input's values"),
    "reads_self_training": (ModeBranch, "training and in evaluation mode"),
    "own_parameter": (OwnWeight, "reads the tensor `self.W`"),
    "subclassed_layer": (lambda: nn.Sequential(MyLinear(2, 2)), "reads the tensor"),
    "formula": (Formula, "arithmetic on tensors"),
    "buffer": (Buffer, "reads the tensor `self.table`"),
    "unsupported_layer": (lambda: nn.Sequential(nn.Linear(2, 2), nn.Softmin(1)), "Softmin"),
}


@pytest.mark.parametrize("case", REFUSED)
def test_undescribable_models_are_refused_with_the_construct_named(case):
    """Is a model the grader cannot rebuild refused with a message naming the construct and what to use?"""
    make, words = REFUSED[case]
    with pytest.raises(StudentError) as info:
        netdesc.describe(make(), torch.randn(3, 2))
    assert words in info.value.message
    assert "the grader cannot rebuild this network" in info.value.message


def _hooked_by_mode():
    inner = nn.Sequential(nn.Linear(2, 2))
    inner.register_forward_hook(lambda module, args, out: torch.relu(out) if module.training else out)
    return nn.Sequential(inner, nn.Linear(2, 2))


def test_a_hook_that_reads_the_mode_is_refused_in_a_sequential_too():
    """A Sequential of torch's layers is traced once; does a forward hook that reads the mode still make
    it traced in both modes, and refused?"""
    with pytest.raises(StudentError) as info:
        netdesc.describe(_hooked_by_mode(), torch.randn(3, 2))
    assert "training and in evaluation mode" in info.value.message


class Renamed(nn.Sequential):
    __module__ = "torch.nn.modules.container"


def _shared_layer():
    same = nn.Sequential(nn.Linear(4, 4), nn.Tanh())          # one instance, called twice
    return nn.Sequential(nn.Flatten(), same, nn.ReLU(), same, nn.Linear(4, 3))


SEQUENTIALS = {
    "mlp": lambda: nn.Sequential(nn.Flatten(), nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 3)),
    "cnn": lambda: nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                                 nn.Flatten(), nn.Linear(4 * 2 * 2, 3)),
    "nested": lambda: nn.Sequential(nn.Sequential(nn.Flatten(), nn.Linear(4, 4)), nn.Tanh(), nn.Linear(4, 3)),
    "shared_layer": _shared_layer,
    "empty_and_named": lambda: nn.Sequential(__import__("collections").OrderedDict(
        flat=nn.Flatten(), nothing=nn.Sequential(), fc=nn.Linear(4, 3), act=nn.GELU())),
}


@pytest.mark.parametrize("name", SEQUENTIALS)
def test_a_sequential_of_torch_layers_is_described_without_tracing_as_a_trace_describes_it(name, monkeypatch):
    """Is the description of a Sequential of torch's layers, written down without tracing, the same text as
    when it is traced in both modes (nested Sequentials, a layer called twice, named and empty ones)?"""
    make = SEQUENTIALS[name]
    sample = torch.randn(2, 1, 4, 1) if name != "cnn" else torch.randn(2, 1, 4, 4)
    model = make()
    assert netdesc._torch_layers_only(model)
    traced = []
    monkeypatch.setattr(netdesc, "_trace", lambda *a, _trace=netdesc._trace: traced.append(1) or _trace(*a))
    once = netdesc.describe(model, sample)
    assert not traced
    monkeypatch.setattr(netdesc, "_torch_layers_only", lambda model: False)
    assert netdesc.describe(model, sample) == once and len(traced) == 2


@pytest.mark.parametrize("name", ["mlp", "cnn", "empty_and_named"])
def test_a_chain_is_rebuilt_as_a_sequential_that_trains_as_its_graph_does(name, monkeypatch):
    """Is a chain of layers rebuilt as an nn.Sequential with the graph module's layer names, parameters
    in the same order, the same initial weights and the same weights after training?"""
    from dlgrade.train import Recipe, fit

    sample = torch.randn(2, 1, 4, 1) if name != "cnn" else torch.randn(2, 1, 4, 4)
    text = netdesc.describe(SEQUENTIALS[name](), sample)
    chain = netdesc.rebuild(text, seed=3)
    monkeypatch.setattr(netdesc, "_chain", lambda graph, desc: False)
    graph = netdesc.rebuild(text, seed=3)
    assert type(chain.module) is nn.Sequential and isinstance(graph.module, torch.fx.GraphModule)
    assert [n for n, _ in chain.module.named_parameters()] == [n for n, _ in graph.module.named_parameters()]
    X, y = torch.randn(32, *sample.shape[1:]), torch.randint(0, 3, (32,))
    recipe = Recipe.from_dict({"epochs": 2, "batch_size": 8, "optimizer": "adam", "lr": 0.01}, where="test")
    for stage in ("initial", "trained"):
        a, b = chain.module.state_dict(), graph.module.state_dict()
        assert list(a) == list(b) and all(torch.equal(a[k], b[k]) for k in a), stage
        fit(chain.module, (X, y), recipe, seed=1), fit(graph.module, (X, y), recipe, seed=1)


class CalledOutOfOrder(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(4, 4)
        self.b = nn.Linear(4, 4)

    def forward(self, x):
        return self.a(self.b(x))


class SkipsALayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(4, 4)
        self.b = nn.Linear(4, 4)

    def forward(self, x):
        self.a(x)
        return self.b(x)


def test_a_graph_that_is_not_a_chain_stays_a_graph_module():
    """Are a forward of its own, a layer called twice, a layer kept in a Python list, layers called in
    another order than they were made, and a layer whose output is dropped rebuilt as a graph module that
    computes what the student's model does?"""
    for model, sample in ((WithForward(), torch.randn(2, 3, 8, 8)), (_shared_layer(), torch.randn(2, 4)),
                          (ListLayers(), torch.randn(3, 2)), (CalledOutOfOrder(), torch.randn(3, 4)),
                          (SkipsALayer(), torch.randn(3, 4))):
        _, rebuilt = roundtrip(model, sample)
        assert isinstance(rebuilt.module, torch.fx.GraphModule), type(model)
        if set(model.state_dict()) == set(rebuilt.module.state_dict()):   # not for a shared or listed layer
            copy_weights(model, rebuilt)
            model.eval(), rebuilt.module.eval()
            with torch.no_grad():
                assert torch.equal(model(sample), rebuilt.module(sample)), type(model)


def test_a_rebuilt_network_has_its_seeds_weights_while_another_thread_builds_a_module(monkeypatch):
    """Does ``rebuild(text, seed=s)`` give the same initial weights when, between two of its layers,
    another grading thread builds a module of its own outside ``seeded`` (as ablation's q1 once did)?
    A batch with two workers once gave ablation's 'base' variant 0.873 where alone it had 0.895."""
    import threading

    text = netdesc.describe(nn.Sequential(nn.Flatten(), nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 4)),
                            torch.randn(2, 3, 4))
    alone = netdesc.rebuild(text, seed=7).module.state_dict()
    construct, calls = netdesc._construct, []
    go, built = threading.Event(), threading.Event()

    def construct_then_let_the_other_thread_build(entry):
        layer = construct(entry)
        calls.append(entry["class"])
        if len(calls) == 6:          # the second layer of the seeded pass (the first four are on meta)
            go.set()
            assert built.wait(10)
        return layer

    def other_thread():
        go.wait()
        nn.Linear(64, 64)
        built.set()

    monkeypatch.setattr(netdesc, "_construct", construct_then_let_the_other_thread_build)
    thread = threading.Thread(target=other_thread)
    thread.start()
    raced = netdesc.rebuild(text, seed=7).module.state_dict()
    thread.join()
    assert built.is_set()
    assert all(torch.equal(alone[k], raced[k]) for k in alone)


@pytest.mark.parametrize("style", ["sequential_cnn", "class_with_forward", "residual_cat_functional_dropout"])
def test_a_network_rebuilt_without_weights_is_checked_and_described_alike(style):
    """Does ``weights=False`` give the same description and layers, on the meta device, without touching
    the global random generator?"""
    make, shape = STYLES[style]
    text = netdesc.describe(make(), torch.randn(*shape))
    state = torch.get_rng_state()
    look = netdesc.rebuild(text, weights=False)
    assert torch.equal(state, torch.get_rng_state())
    full = netdesc.rebuild(text, seed=0)
    assert look.description == full.description and look.layer_types() == full.layer_types()
    assert {p.device.type for p in look.module.parameters()} == {"meta"}
    assert [n for n, _ in look.module.named_parameters()] == [n for n, _ in full.module.named_parameters()]


@pytest.mark.parametrize("make", [_hooked_by_mode, lambda: Renamed(nn.Linear(2, 2)), WithForward,
                                  lambda: nn.Sequential(nn.Linear(2, 2), Renamed(nn.ReLU()))])
def test_anything_but_torch_layers_in_a_sequential_is_traced_in_both_modes(make):
    """Are hooks, a subclass that only claims to be torch's, and a network with its own forward kept
    off the one-trace path?"""
    assert not netdesc._torch_layers_only(make())


def test_layers_in_a_python_list_are_rebuilt_frozen():
    """Are layers kept in a plain Python list (invisible to .parameters(), so never trained) rebuilt as
    untrainable layers, so the rebuilt network counts and computes as the student's does?"""
    model = ListLayers()
    sample = torch.randn(3, 2)
    _, rebuilt = roundtrip(model, sample)
    assert sum(p.numel() for p in rebuilt.module.parameters() if p.requires_grad) == 10
    state = {**model.state_dict(), **{f"hidden.0.{k}": v for k, v in model.hidden[0].state_dict().items()}}
    rebuilt.module.load_state_dict(state)
    assert torch.equal(model(sample), rebuilt.module(sample))


def test_unused_layers_fail_the_parameter_check():
    """Does a model whose parameters are not all used by forward fail the grader's parameter check?"""

    class Unused(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 2)
            self.spare = nn.Linear(100, 100)

        def forward(self, x):
            return self.fc(x)

    text = netdesc.describe(Unused(), torch.zeros(1, 2))
    with pytest.raises(StudentError, match="parameters"):
        netdesc.rebuild(text)


def test_forged_descriptions_are_refused():
    """Does the grader refuse descriptions naming classes, functions or shapes outside the whitelist?"""
    text = netdesc.describe(nn.Sequential(nn.Linear(2, 2)), torch.zeros(1, 2))
    desc = json.loads(text)
    bad = [
        {**desc, "modules": [{"path": "0", "class": "Module", "args": {}}]},
        {**desc, "modules": [{"path": "0", "class": "Linear", "args": {"in_features": 2, "out_features": 2,
                                                                      "device": "cuda"}}]},
        {**desc, "nodes": [desc["nodes"][0], {"name": "n1", "op": "function", "target": "os.system",
                                              "args": ["true"], "kwargs": {}}, desc["nodes"][-1]]},
        {**desc, "output_shape": [1, 3]},
        {**desc, "params": 5},
        {**desc, "modules": [{"path": "0", "class": "Linear", "args": {"in_features": 100_000,
                                                                      "out_features": 100_000}}]},
        {**desc, "format": "other"},
    ]
    for forged in bad:
        for weights in (True, False):
            with pytest.raises(StudentError):
                netdesc.rebuild(json.dumps(forged), weights=weights)
    with pytest.raises(StudentError):
        netdesc.rebuild("x" * (netdesc.MAX_CHARS + 1))


FLOP_CASES = {
    "mlp": (lambda: nn.Sequential(nn.Flatten(), nn.Linear(12, 7), nn.ReLU(), nn.Linear(7, 3)), (3, 2, 2)),
    "linear_on_sequences": (lambda: nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 2)), (6, 5)),
    "cnn": (lambda: nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                  nn.Conv2d(8, 4, (3, 1), stride=2, bias=False), nn.Flatten(), nn.LazyLinear(2)),
            (3, 12, 12)),
    "grouped_dilated": (lambda: nn.Sequential(nn.Conv2d(4, 8, 3, groups=2, dilation=2), nn.Flatten(2),
                                                     nn.Conv1d(8, 8, 1)),
                        (4, 9, 9)),
    "conv1d_3d": (lambda: nn.Sequential(nn.Conv1d(2, 4, 5, padding=2), nn.Unflatten(1, (1, 4, 1)),
                                        nn.Conv3d(1, 2, 3, padding=1)), (2, 16)),
    "transposed": (lambda: nn.Sequential(nn.ConvTranspose2d(3, 6, 3, stride=2, groups=3), nn.Flatten(2),
                                         nn.ConvTranspose1d(6, 2, 2)), (3, 5, 5)),
}


@pytest.mark.parametrize("name", FLOP_CASES)
def test_flops_are_counted_as_torch_counts_them(name):
    """Does ``Network.flops`` (counted on the meta device, nothing run) agree with torch's FlopCounterMode
    running the rebuilt network for real, for linear, grouped, dilated, 1-D, 3-D and transposed layers?"""
    from torch.utils.flop_counter import FlopCounterMode

    make, shape = FLOP_CASES[name]
    model = make()
    model(torch.zeros(2, *shape))     # materialise lazy layers
    net = netdesc.rebuild(netdesc.describe(model, torch.zeros(2, *shape)), seed=0)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        net.module(torch.zeros(1, *shape))
    assert net.flops(shape) == counter.get_total_flops() > 0


class Reuse(nn.Module):
    """One layer applied ``times`` times: weight sharing, which a description may use as often as it likes."""

    def __init__(self, layer, times):
        super().__init__()
        self.layer, self.times = layer, times

    def forward(self, x):
        for _ in range(self.times):
            x = self.layer(x)
        return x


def test_a_network_too_costly_to_run_is_refused_before_anything_runs():
    """Is a description whose forward pass needs more than MAX_FLOPS, or produces more than MAX_ELEMENTS, per
    example refused without the grader's process running one real operation? Is one traced on another input
    than the grader's sample refused?"""
    costly = netdesc.describe(Reuse(nn.Conv2d(64, 64, 3, padding=1), 20), torch.zeros(1, 64, 32, 32))
    huge = netdesc.describe(Reuse(nn.ReLU(), 12), torch.zeros(1, 1 << 20))
    cheap = netdesc.describe(Reuse(nn.Conv2d(64, 64, 3, padding=1), 2), torch.zeros(1, 64, 32, 32))
    devices = []
    hook = torch.nn.modules.module.register_module_forward_pre_hook(lambda m, args: devices.append(args[0].device))
    try:
        with pytest.raises(StudentError, match=r"needs more than 1 GFLOP per example; use fewer") as info:
            netdesc.rebuild(costly, seed=0)
        assert "While executing" not in info.value.message, info.value.message
        with pytest.raises(StudentError, match=r"produces more than 10,000,000 numbers per example"):
            netdesc.rebuild(huge, seed=0)
        assert devices and all(device.type == "meta" for device in devices), devices
        with pytest.raises(StudentError, match=r"traced on an input of shape \(1, 64, 32, 32\), not on the "
                                               r"grader's sample of shape \(4, 64, 32, 32\)"):
            netdesc.rebuild(cheap, seed=0, input_shape=(4, 64, 32, 32))
        assert netdesc.rebuild(cheap, seed=0, input_shape=(1, 64, 32, 32)).output_shape == (1, 64, 32, 32)
    finally:
        hook.remove()


class BatchSquared(nn.Module):
    """Every example added to every other one: (B, 1, n) + (1, B, n) is (B, B, n), so the cost per example
    grows with the batch (2 examples look cheap; the grader trains on 32 and scores on up to 1,024)."""

    def __init__(self, add):
        super().__init__()
        self.fc, self.head, self.add = nn.Linear(12, 16), nn.Linear(16, 2), add

    def forward(self, x):
        return self.head(self.fc(self.add(x.unsqueeze(1), x.view(1, x.size(0), x.size(1)))).mean(1))


@pytest.mark.parametrize("add", [torch.add, operator.add, lambda a, b: a.add(b)], ids=["torch.add", "+", "method"])
def test_adding_tensors_of_different_shapes_is_refused(add):
    """Broadcasting two tensors is the one way on the whitelist to make a network's cost per example depend
    on the batch, past what the grader measures on its sample: is it refused, while a residual connection (the
    same shapes) is accepted?"""
    text = netdesc.describe(BatchSquared(add), torch.zeros(2, 12))
    with pytest.raises(StudentError, match=r"adds tensors of different shapes \(2, 1, 12\) and \(1, 2, 12\)"):
        netdesc.rebuild(text, seed=0)

    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc, self.head = nn.Linear(12, 12), nn.Linear(12, 2)

        def forward(self, x):
            return self.head(x + self.fc(x))

    assert netdesc.rebuild(netdesc.describe(Residual(), torch.zeros(2, 12)), seed=0).output_shape == (2, 2)


def test_submission_network_goes_through_the_harness_channel():
    """Does ``sub.network`` describe on the student side and return a network rebuilt on this side?"""
    ns = {"build": lambda: nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2))}
    sub = LocalSubmission(ns)
    ref = sub.call_with("build", seed=0)
    net = sub.network(ref, np.zeros((3, 2), np.float32), seed=0)
    assert net.params == 22 and net.output_shape == (3, 2)
    assert net.layer_types() == {"Linear", "ReLU"}


REPO = __import__("pathlib").Path(__file__).resolve().parents[2]
BUILDERS = {
    "xor": [("build_xor_mlp", (), (4, 2))],
    "ablation": [("build_mlp", ([512, 256],), (4, 1, 28, 28)), ("build_mlp", ([],), (4, 1, 28, 28)),
                 ("DeepMLP", ([128, 256, 128, 64],), (4, 2))],
    "cifar": [("build_mlp", (), (4, 3, 32, 32)), ("build_cnn", (), (4, 3, 32, 32))],
}
"""The networks each exercise's hidden tests rebuild, with the arguments and input shapes they use."""
NOTEBOOKS = [(ex, path) for ex in BUILDERS
             for path in sorted([REPO / "solutions" / ex / f"{ex}.ipynb",
                                 *(REPO / "autograder" / ex / "samples").glob("*.ipynb")])]


@pytest.mark.slow
@pytest.mark.parametrize("ex_id,path", NOTEBOOKS, ids=lambda v: getattr(v, "stem", v))
def test_exercise_networks_rebuild_exactly(ex_id, path):
    """Does every network of every reference solution and sample describe, and rebuild into one that computes
    the same outputs from the same weights (in eval mode)?"""
    import matplotlib

    matplotlib.use("Agg")
    from dlgrade.harness.notebook import code_cells, read_notebook, run_cells

    ns: dict = {"__name__": "__main__"}
    run_cells(code_cells(read_notebook(path)), ns)
    checked = 0
    for name, args, shape in BUILDERS[ex_id]:
        if name not in ns:
            continue
        torch.manual_seed(0)
        try:
            model = ns[name](*args)
        except NotImplementedError:      # an unanswered stub
            continue
        sample = torch.randn(*shape)
        _, rebuilt = roundtrip(model, sample)
        state = dict(model.state_dict())
        for layer_path, layer in netdesc.unregistered_layers(model).items():
            state.update({f"{layer_path}.{k}": v for k, v in layer.state_dict(keep_vars=False).items()
                          if "." not in k})
        rebuilt.module.load_state_dict(state)
        model.eval(), rebuilt.module.eval()
        with torch.no_grad():
            assert torch.equal(model(sample), rebuilt.module(sample)), f"{path.name}: {name}{args}"
        checked += 1
    assert checked or "untouched" in path.name, f"{path.name}: no network was built"
