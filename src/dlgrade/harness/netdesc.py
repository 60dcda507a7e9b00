"""Networks as data: describe a student's model, rebuild it from torch's own classes.

The grader trains and scores networks that contain no student code. On the
student side, :func:`describe` traces the model a builder returned
(``torch.fx.symbolic_trace`` with standard ``torch.nn`` layers as leaves) into
a JSON description: the layers, by class name and constructor arguments, and
the forward pass as a list of whitelisted operations. On the grader side,
:func:`rebuild` checks that description against the whitelist and builds a
fresh ``torch.fx.GraphModule`` from ``torch.nn`` classes only, initialised
under the grader's seed. Weights never travel: whatever the student's
builder loaded, set or smuggled is gone.

Description format (``"format": "dlgrade-net/1"``)::

    {"format": "dlgrade-net/1",
     "modules": [{"path": "0", "class": "Linear", "args": {"in_features": 2, "out_features": 4, "bias": true}}, ...],
     "nodes": [{"name": "x", "op": "input"},
               {"name": "n1", "op": "module", "target": "0", "args": [{"node": "x"}], "kwargs": {}},
               {"name": "n2", "op": "function", "target": "relu", "args": [{"node": "n1"}], "kwargs": {}},
               {"name": "n3", "op": "method", "target": "view", "args": [{"node": "n2"}, 4, -1], "kwargs": {}},
               {"name": "out", "op": "output", "args": [{"node": "n3"}]}],
     "params": 22, "input_shape": [4, 2], "output_shape": [4, 2]}

Argument values are JSON numbers, strings, booleans, null, lists,
``{"tuple": [...]}`` and ``{"node": name}`` (an earlier node's value).
``params`` and ``output_shape`` are what the student's own model reported on
the sample input; the grader's rebuilt network must match both. A layer the
model keeps in a plain Python list is not one of its parameters; it is
described with ``"frozen": true`` and rebuilt untrainable, as it behaves.

What cannot be described is refused with a message naming the construct:
layers other than :data:`MODULES` (home-made layers, subclasses of torch's),
functions other than :data:`FUNCTIONS` / :data:`METHODS`, tensors read
directly in ``forward`` (``self.W``, buffers, ``torch.tensor(...)``),
arithmetic with numbers on tensors, indexing tensors, data-dependent control
flow, and a ``forward`` that differs between training and evaluation mode.
"""
from __future__ import annotations

import functools
import json
import math
import operator
from collections import OrderedDict
from dataclasses import dataclass

from dlgrade.harness.errors import StudentError

FORMAT = "dlgrade-net/1"
MAX_CHARS = 1 << 20
"""Largest description accepted, in characters of JSON."""
MAX_NODES = 5000
MAX_MODULES = 2000
MAX_PARAMS = 50_000_000
"""Largest network the grader builds (parameters)."""
MAX_FLOPS = 1e9
"""Most FLOPs a network's forward pass may take per example (of the sample the student's side traced): 50
times the reference CIFAR CNN. Counted on the meta device before the grader runs the network at all, so
that a description cannot hold the grader's own process; the recipes' ``max_flops`` are lower."""
MAX_ELEMENTS = 10_000_000
"""Most tensor elements a network's forward pass may produce per example, summed over its operations:
what training keeps for the backward pass (the reference CIFAR CNN produces about 130,000)."""

# class name -> constructor arguments, read back from the instance's attributes of the same name
# (``bias``/``affine``-style flags are derived; see _module_args).
_CONV = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups", "bias",
         "padding_mode")
_BN = ("num_features", "eps", "momentum", "affine", "track_running_stats")
_MAXPOOL = ("kernel_size", "stride", "padding", "dilation", "ceil_mode")
MODULES: dict[str, tuple[str, ...]] = {
    "Linear": ("in_features", "out_features", "bias"),
    "Conv1d": _CONV, "Conv2d": _CONV, "Conv3d": _CONV,
    "ConvTranspose1d": _CONV + ("output_padding",), "ConvTranspose2d": _CONV + ("output_padding",),
    "BatchNorm1d": _BN, "BatchNorm2d": _BN, "BatchNorm3d": _BN,
    "LayerNorm": ("normalized_shape", "eps", "elementwise_affine", "bias"),
    "GroupNorm": ("num_groups", "num_channels", "eps", "affine"),
    "Dropout": ("p",), "Dropout1d": ("p",), "Dropout2d": ("p",), "Dropout3d": ("p",), "AlphaDropout": ("p",),
    "ReLU": (), "ReLU6": (), "LeakyReLU": ("negative_slope",), "ELU": ("alpha",), "SELU": (), "CELU": ("alpha",),
    "GELU": ("approximate",), "SiLU": (), "Mish": (), "Tanh": (), "Sigmoid": (), "Softplus": ("beta", "threshold"),
    "Softsign": (), "Hardtanh": ("min_val", "max_val"), "Hardswish": (), "Hardsigmoid": (), "LogSigmoid": (),
    "Softmax": ("dim",), "LogSoftmax": ("dim",), "PReLU": ("num_parameters",),
    "Identity": (), "Flatten": ("start_dim", "end_dim"), "Unflatten": ("dim", "unflattened_size"),
    "MaxPool1d": _MAXPOOL, "MaxPool2d": _MAXPOOL, "MaxPool3d": _MAXPOOL,
    "AvgPool1d": ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"),
    "AvgPool2d": ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override"),
    "AdaptiveAvgPool1d": ("output_size",), "AdaptiveAvgPool2d": ("output_size",),
    "AdaptiveMaxPool1d": ("output_size",), "AdaptiveMaxPool2d": ("output_size",),
}
"""The ``torch.nn`` layers a description may use, with the constructor arguments it records."""


def _function_table() -> dict:
    """Whitelisted functions: description name -> torch callable (the same on both sides)."""
    import torch
    import torch.nn.functional as F

    names = {
        "relu": F.relu, "relu6": F.relu6, "leaky_relu": F.leaky_relu, "elu": F.elu, "selu": F.selu,
        "celu": F.celu, "gelu": F.gelu, "silu": F.silu, "mish": F.mish, "softplus": F.softplus,
        "hardtanh": F.hardtanh, "hardswish": F.hardswish, "sigmoid": F.sigmoid, "tanh": F.tanh,
        "softmax": F.softmax, "log_softmax": F.log_softmax, "logsigmoid": F.logsigmoid,
        "max_pool1d": F.max_pool1d, "max_pool2d": F.max_pool2d, "avg_pool1d": F.avg_pool1d,
        "avg_pool2d": F.avg_pool2d, "adaptive_avg_pool1d": F.adaptive_avg_pool1d,
        "adaptive_avg_pool2d": F.adaptive_avg_pool2d, "adaptive_max_pool2d": F.adaptive_max_pool2d,
        "torch.relu": torch.relu, "torch.sigmoid": torch.sigmoid, "torch.tanh": torch.tanh,
        "torch.flatten": torch.flatten, "torch.cat": torch.cat, "torch.reshape": torch.reshape,
        "torch.squeeze": torch.squeeze, "torch.unsqueeze": torch.unsqueeze, "torch.permute": torch.permute,
        "torch.transpose": torch.transpose, "torch.add": torch.add, "torch.mean": torch.mean,
        "torch.amax": torch.amax, "torch.softmax": torch.softmax, "torch.log_softmax": torch.log_softmax,
        "add": operator.add, "mul": operator.mul, "sub": operator.sub, "floordiv": operator.floordiv,
        "getitem": operator.getitem, "getattr": getattr,
    }
    return names


FUNCTIONS = (
    "relu", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu", "silu", "mish", "softplus", "hardtanh",
    "hardswish", "sigmoid", "tanh", "softmax", "log_softmax", "logsigmoid", "max_pool1d", "max_pool2d",
    "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool2d",
    "torch.relu", "torch.sigmoid", "torch.tanh", "torch.flatten", "torch.cat", "torch.reshape", "torch.squeeze",
    "torch.unsqueeze", "torch.permute", "torch.transpose", "torch.add", "torch.mean", "torch.amax",
    "torch.softmax", "torch.log_softmax", "add", "mul", "sub", "floordiv", "getitem", "getattr",
)
"""Functions a forward pass may call (``F.*`` under their short names, ``torch.*`` and operators)."""
METHODS = ("view", "reshape", "flatten", "size", "permute", "transpose", "contiguous", "squeeze", "unsqueeze",
           "relu", "sigmoid", "tanh", "softmax", "log_softmax", "mean", "amax", "add", "float")
"""Tensor methods a forward pass may call."""
_SIZE_ARITHMETIC = ("mul", "sub", "floordiv")
"""Operators allowed on sizes only (``x.size(0) * 2``), never on tensors."""
_TENSOR_ARGS_OK = {"add", "torch.add", "torch.cat"}
"""Functions that may combine two tensors (residual connections, concatenation)."""
_DROPOUT_FUNCTIONS = ("dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout")

USE_INSTEAD = ("use the standard layers of torch.nn (nn.Linear, nn.Conv2d, nn.ReLU, nn.Dropout, "
               "nn.BatchNorm*, pooling, nn.Flatten) in nn.Sequential, nn.ModuleList or a class whose forward "
               "only chains them, with torch.flatten/view/reshape, F.relu-style activations, + and torch.cat")


def refuse(what: str, instead: str = USE_INSTEAD) -> StudentError:
    """The error for a model the grader cannot rebuild: what was found, and what to use."""
    return StudentError("bad_output", f"the grader cannot rebuild this network: {what}; {instead}")


# -- student side ------------------------------------------------------------------------

def describe(model, sample) -> str:
    """The JSON description of ``model`` (runs in the student's process; raises StudentError).

    ``sample`` is a small input batch: the model runs on it once (in eval mode,
    without gradients) so lazy layers take their sizes, and reports its
    parameter count and output shape.
    """
    import torch

    if not isinstance(model, torch.nn.Module):
        raise StudentError("bad_output", f"expected a torch.nn.Module, got {type(model).__name__}")
    sample = torch.as_tensor(sample)
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            out = model(sample)
    finally:
        model.train(was_training)
    if not isinstance(out, torch.Tensor):
        raise refuse(f"forward returns a {type(out).__name__}, not one tensor", "return the logits tensor")
    for name, sub in model.named_modules():
        if isinstance(sub, torch.nn.modules.lazy.LazyModuleMixin) and sub.has_uninitialized_params():
            raise refuse(f"the lazy layer `{name}` was not used by forward", "remove layers forward does not use")
    if type(model).__module__.startswith("torch.nn") and type(model).__name__ in MODULES:
        model = torch.nn.Sequential(model)          # a bare layer: trace it as a one-layer network
    extra = unregistered_layers(model)
    if not extra and _torch_layers_only(model):
        modules, nodes = _describe_chain(model)     # no code of its own: the graph a trace would give
    else:
        modules, nodes = _describe_traced(model, sample, extra, was_training)
    desc = {"format": FORMAT, "modules": modules, "nodes": nodes,
            "params": int(sum(p.numel() for p in model.parameters())),
            "input_shape": list(sample.shape), "output_shape": list(out.shape)}
    text = json.dumps(desc, separators=(",", ":"), allow_nan=False)
    if len(text) > MAX_CHARS:
        raise refuse(f"its description is {len(text):,} characters long (at most {MAX_CHARS:,})",
                     "use fewer layers")
    return text


def _describe_traced(model, sample, extra: dict, was_training: bool) -> tuple[list, list]:
    """(modules, nodes) of ``model`` traced in both modes, which must agree."""
    graphs = {}
    for mode in (True, False):
        if mode is False and _torch_layers_only(model):
            graphs[False] = graphs[True]     # nothing traced can read the mode (see _torch_layers_only)
            break
        model.train(mode)
        for layer in extra.values():
            layer.train(mode)
        try:
            graphs[mode] = _trace(model, extra)
        finally:
            model.train(was_training)
    model.eval()                                     # shapes from an eval-mode run (batch norm on any batch)
    try:
        described = {True: _describe_graph(model, graphs[True], sample, extra)}
        # The same graph in both modes (the usual case) has the same description: not worked out twice.
        described[False] = described[True] if _same_graph(graphs[True], graphs[False]) else \
            _describe_graph(model, graphs[False], sample, extra)
    finally:
        model.train(was_training)
    if _comparable(described[True]) != _comparable(described[False]):
        raise refuse("forward does different things in training and in evaluation mode (it reads "
                     "self.training)", "let nn.Dropout and nn.BatchNorm layers handle the modes; forward "
                                      "must not test self.training")
    return described[False]


def _describe_chain(model) -> tuple[list, list]:
    """(modules, nodes) of an ``nn.Sequential`` of torch's own layers (see :func:`_torch_layers_only`),
    without tracing it.

    Its forward is ``Sequential.forward``: each layer called on the previous one's output, nested
    Sequentials walked through. That is the graph a trace records, and it is written down here
    directly, with the same names (a layer's first path in ``named_modules``, as the tracer finds it) and
    the layers in the same order. The forward pass on the sample has already run, so nothing is left
    to check by running the graph.
    """
    import torch

    named = list(model.named_modules())             # each layer once, under its first path
    paths = {id(m): path for path, m in named}
    order = {path: i for i, (path, _) in enumerate(named)}

    def leaves(seq):
        for layer in seq:                           # what Sequential.forward iterates over
            if type(layer) is torch.nn.Sequential:
                yield from leaves(layer)
            else:
                yield layer

    modules, nodes, used = [], [{"name": "n0", "op": "input"}], set()
    for layer in leaves(model):
        path = paths[id(layer)]
        if path not in used:
            used.add(path)
            modules.append({"path": path, "class": type(layer).__name__, "args": _module_args(layer, path)})
        nodes.append({"name": f"n{len(nodes)}", "op": "module", "target": path,
                      "args": [{"node": nodes[-1]["name"]}], "kwargs": {}})
    nodes.append({"name": f"n{len(nodes)}", "op": "output", "args": [{"node": nodes[-1]["name"]}]})
    modules.sort(key=lambda m: order[m["path"]])
    if len(nodes) > MAX_NODES or len(modules) > MAX_MODULES:
        raise refuse(f"it has {len(nodes)} operations and {len(modules)} layers", "use fewer layers")
    return modules, nodes


def _torch_layers_only(model) -> bool:
    """Is ``model`` an ``nn.Sequential`` of torch's own layers (exactly their classes, nested Sequentials
    included), with no forward of its own set on an instance and no hook? Then the only code a trace runs
    is ``Sequential.forward`` (the layers are leaves), which never reads the mode, so the traces in
    training and in evaluation mode are the same graph."""
    import torch
    from torch.nn.modules import module as torch_module

    if any(getattr(torch_module, name, None) for name in _GLOBAL_HOOKS):
        return False
    allowed = _torch_layer_classes()
    for sub in model.modules():
        if type(sub) not in allowed or "forward" in vars(sub) or sub._forward_hooks or sub._forward_pre_hooks:
            return False
    return type(model) is torch.nn.Sequential


_GLOBAL_HOOKS = ("_global_forward_hooks", "_global_forward_pre_hooks")


def _torch_layer_classes() -> frozenset:
    import torch

    return frozenset(getattr(torch.nn, name) for name in (*MODULES, "Sequential") if hasattr(torch.nn, name))


def _same_graph(a, b) -> bool:
    """Do two traced graphs have the same nodes in the same order, with the same targets and arguments?"""
    from torch.fx.node import map_arg

    def key(graph):
        return [(n.op, n.name, n.target, map_arg(n.args, lambda a: a.name), map_arg(n.kwargs, lambda a: a.name))
                for n in graph.nodes]

    try:
        return bool(key(a) == key(b))
    except Exception:  # noqa: BLE001 - arguments that do not compare (tensors): describe both
        return False


def _comparable(described):
    modules, nodes = described
    return modules, [{k: v for k, v in n.items() if k != "name"} for n in nodes]


def unregistered_layers(model) -> dict:
    """Layers the model keeps in plain Python lists, tuples or dicts, by a path such as ``hidden.0``.

    They are not part of the model for PyTorch (``parameters()`` does not list
    them, so an optimiser never trains them): the description keeps them as
    *frozen* layers, which the grader rebuilds untrainable, as they behave.
    """
    import torch

    found: dict = {}
    registered = {id(m) for m in model.modules()}
    for prefix, owner in list(model.named_modules()):
        for attr, value in vars(owner).items():
            if attr.startswith("_") and attr in ("_modules", "_parameters", "_buffers"):
                continue
            items = value.items() if isinstance(value, dict) else enumerate(value) \
                if isinstance(value, (list, tuple)) else ()
            for key, item in items:
                if isinstance(item, torch.nn.Module) and id(item) not in registered:
                    base = f"{prefix}.{attr}.{key}" if prefix else f"{attr}.{key}"
                    for sub_path, sub in item.named_modules(prefix=base):
                        found.setdefault(id(sub), (sub_path, sub))
    return {path: module for path, module in found.values()}


def _trace(model, extra: dict):
    import torch
    import torch.fx as fx

    paths = {id(m): path for path, m in extra.items()}

    class Tracer(fx.Tracer):
        def is_leaf_module(self, m, qualname):
            kind = type(m)
            if kind.__module__.startswith("torch.nn"):
                return not isinstance(m, (torch.nn.Sequential, torch.nn.ModuleList, torch.nn.ModuleDict))
            return False

        def path_of_module(self, mod):
            if id(mod) in paths:
                return paths[id(mod)]
            return super().path_of_module(mod)

    try:
        return Tracer().trace(model)
    except fx.proxy.TraceError as exc:
        text = str(exc)
        if "control flow" in text or "iterate" in text or "len(" in text:
            raise refuse("forward takes a decision that depends on the input's values (an `if`, a loop or "
                         "len() on a tensor)", "forward must apply the same layers to every input") from None
        raise refuse(f"tracing forward failed ({text[:200]})") from None
    except NameError as exc:
        if "not installed as a submodule" in str(exc):
            raise refuse("forward calls a layer that is not part of the model (kept in a Python list or dict?)",
                         "keep layers in nn.ModuleList / nn.ModuleDict or as attributes") from None
        raise refuse(f"tracing forward failed (NameError: {exc})") from None
    except StudentError:
        raise
    except Exception as exc:  # noqa: BLE001 - custom Python that symbolic tracing cannot follow
        raise refuse(f"forward runs Python that cannot be traced ({type(exc).__name__}: {str(exc)[:200]})") \
            from None


def _describe_graph(model, graph, sample, extra: dict) -> tuple[list, list]:
    """(modules, nodes) of a traced graph; the shapes come from running the graph on ``sample``."""
    import torch
    import torch.fx as fx
    from torch.fx.passes.shape_prop import ShapeProp, TensorMetadata

    owners = {**extra, **dict(model.named_modules())}
    gm = fx.GraphModule({n.target: owners[n.target] for n in graph.nodes if n.op == "call_module"} | {
        n.target: _attr(model, n.target) for n in graph.nodes if n.op == "get_attr"}, graph)
    try:
        with torch.no_grad():
            ShapeProp(gm).propagate(sample)
    except Exception as exc:  # noqa: BLE001
        raise refuse(f"its traced forward does not run ({type(exc).__name__}: {str(exc)[:200]})") from None
    functions = {fn: name for name, fn in _function_table().items()}
    modules, nodes, used = [], [], set()
    names: dict = {}
    generated = 0

    def is_tensor(value) -> bool:
        return isinstance(value, fx.Node) and isinstance(value.meta.get("tensor_meta"), TensorMetadata)

    def arg(value):
        if isinstance(value, fx.Node):
            return {"node": names[value]}
        if value is None or isinstance(value, (bool, int, str)):
            return value
        if isinstance(value, float):
            if not math.isfinite(value):
                raise refuse("forward uses a number that is not finite")
            return value
        if isinstance(value, (list, tuple)):
            items = [arg(v) for v in value]
            return {"tuple": items} if isinstance(value, tuple) else items
        if isinstance(value, slice):
            return {"slice": [arg(value.start), arg(value.stop), arg(value.step)]}
        raise refuse(f"forward passes a {type(value).__name__} to an operation")

    for node in graph.nodes:
        name = f"n{len(nodes)}"
        names[node] = name
        if node.op == "placeholder":
            if any(n["op"] == "input" for n in nodes):
                raise refuse(f"forward takes more than one input (`{node.target}`)", "take one input tensor x")
            nodes.append({"name": name, "op": "input"})
        elif node.op == "output":
            result = node.args[0]
            if not isinstance(result, fx.Node):
                raise refuse("forward returns more than one value", "return one logits tensor")
            nodes.append({"name": name, "op": "output", "args": [arg(result)]})
        elif node.op == "get_attr":
            raise refuse(f"forward reads the tensor `self.{node.target}` directly (a parameter, a buffer or a "
                         "constant made in forward)", "keep weights inside standard layers such as nn.Linear, "
                                                      "and make no tensors in forward")
        elif node.op == "call_module":
            sub = owners.get(node.target)
            kind = type(sub).__name__
            if type(sub).__module__.split(".")[:2] != ["torch", "nn"] or kind not in MODULES:
                raise refuse(f"the layer `{node.target}` is a {kind}, which the grader does not rebuild")
            if node.target not in used:
                used.add(node.target)
                entry = {"path": node.target, "class": kind, "args": _module_args(sub, node.target)}
                if node.target in extra:
                    entry["frozen"] = True          # not a parameter of the model: never trained
                modules.append(entry)
            nodes.append({"name": name, "op": "module", "target": node.target, "args": [arg(a) for a in node.args],
                          "kwargs": {k: arg(v) for k, v in node.kwargs.items()}})
        elif node.op == "call_function":
            fname = getattr(node.target, "__name__", "")
            if fname in _DROPOUT_FUNCTIONS and getattr(node.target, "__module__", "") == "torch.nn.functional":
                # F.dropout(x, p, self.training) becomes an nn.Dropout layer, which follows the mode itself.
                p = node.kwargs.get("p", node.args[1] if len(node.args) > 1 else 0.5)
                path = f"_dropout_{generated}"
                generated += 1
                while path in owners:
                    path = "_" + path
                kind = {"dropout": "Dropout", "dropout1d": "Dropout1d", "dropout2d": "Dropout2d",
                        "dropout3d": "Dropout3d", "alpha_dropout": "AlphaDropout"}[fname]
                modules.append({"path": path, "class": kind, "args": {"p": arg(float(p))}})
                nodes.append({"name": name, "op": "module", "target": path, "args": [arg(node.args[0])],
                              "kwargs": {}})
                continue
            fn = functions.get(node.target)
            if fn is None:
                raise refuse(f"forward calls {_callable_name(node.target)}, which is not on the grader's list")
            _check_operands(fn, node, is_tensor)
            nodes.append({"name": name, "op": "function", "target": fn, "args": [arg(a) for a in node.args],
                          "kwargs": {k: arg(v) for k, v in node.kwargs.items()}})
        elif node.op == "call_method":
            if node.target not in METHODS:
                raise refuse(f"forward calls the tensor method .{node.target}(), which is not on the grader's list")
            if node.target == "add" and not all(is_tensor(a) for a in node.args):
                raise refuse("forward adds a number to a tensor", "only tensor + tensor is allowed")
            nodes.append({"name": name, "op": "method", "target": node.target,
                          "args": [arg(a) for a in node.args], "kwargs": {k: arg(v) for k, v in node.kwargs.items()}})
        else:  # pragma: no cover - fx has no other ops
            raise refuse(f"forward uses {node.op}")
    order = {path: i for i, path in enumerate(owners)}
    modules.sort(key=lambda m: order.get(m["path"], len(order)))     # the model's order: its initialisation order
    if len(nodes) > MAX_NODES or len(modules) > MAX_MODULES:
        raise refuse(f"it has {len(nodes)} operations and {len(modules)} layers", "use fewer layers")
    return modules, nodes


def _attr(model, dotted: str):
    obj = model
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def _check_operands(fn: str, node, is_tensor) -> None:
    tensors = [a for a in node.args if is_tensor(a)]
    if fn == "getitem":
        if tensors and tensors[0] is node.args[0]:
            raise refuse("forward indexes a tensor (x[...])", "use layers on whole tensors; view/reshape/flatten "
                         "to change shapes")
    elif fn == "getattr":
        if node.args[1] != "shape":
            raise refuse(f"forward reads `.{node.args[1]}` of a value")
    elif fn in _SIZE_ARITHMETIC or fn == "add":
        if tensors and (fn != "add" or len(tensors) != len(node.args)):
            raise refuse("forward does arithmetic on tensors" + (" with numbers" if fn == "add" else ""),
                         "only tensor + tensor (residual connections) is allowed; scale or shift inside layers")
    elif fn == "torch.add" and len(tensors) != 2:
        raise refuse("forward adds a number to a tensor", "only tensor + tensor is allowed")


def _callable_name(target) -> str:
    module = getattr(target, "__module__", None) or ""
    name = getattr(target, "__qualname__", None) or getattr(target, "__name__", None) or repr(target)
    if name.startswith("_VariableFunctionsClass."):
        module, name = "torch", name.split(".", 1)[1]
    module = {"_operator": "operator", "torch._C._nn": "torch.nn.functional"}.get(module, module)
    return f"{module}.{name}" if module and not module.startswith("_") else str(name)


def _module_args(sub, path: str) -> dict:
    out = {}
    for field in MODULES[type(sub).__name__]:
        if field == "bias":
            value = getattr(sub, "bias", None) is not None
        else:
            value = getattr(sub, field)
        out[field] = _plain(value, f"`{path}.{field}`")
    if getattr(sub, "return_indices", False):
        raise refuse(f"the pooling layer `{path}` returns indices", "leave return_indices False")
    if type(sub).__name__ == "GELU" and sub.approximate not in ("none", "tanh"):
        raise refuse(f"`{path}.approximate` is {sub.approximate!r}")
    return out


def _plain(value, what: str):
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise refuse(f"{what} is not a finite number")
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v, what) for v in value]
    raise refuse(f"{what} is a {type(value).__name__}")


# -- grader side -------------------------------------------------------------------------

class Network:
    """A network rebuilt by the grader, with what the student's side reported about it."""

    def __init__(self, module, description: dict, text: str):
        self.module = module
        """The rebuilt network, torch's classes only: an ``nn.Sequential`` or a ``torch.fx.GraphModule``."""
        self.description = description
        self.params = int(description["params"])
        self.output_shape = tuple(description["output_shape"])

        self._text = text

    @property
    def text(self) -> str:
        """The JSON description the network was rebuilt from."""
        return self._text

    def layer_types(self) -> set[str]:
        return {m["class"] for m in self.description["modules"]}

    def calls(self, method: str) -> bool:
        """Does the forward pass call the tensor method ``method`` (``"view"``)?"""
        return any(n.get("op") == "method" and n.get("target") == method for n in self.description["nodes"])

    def fresh(self, seed: int) -> Network:
        """Another copy of the same network, initialised under ``seed``."""
        return rebuild(self._text, seed=seed)

    def flops(self, example_shape) -> int:
        """Forward FLOPs on one example of shape ``example_shape`` (a batch of one), counted on the meta
        device as :class:`Cost` counts them. Raises StudentError when the network does not take such
        examples, or needs more than :data:`MAX_FLOPS` for one."""
        return _cost(self._text, (1, *(int(n) for n in example_shape))).flops


def rebuild(text, *, seed: int | None = None, weights: bool = True, input_shape=None) -> Network:
    """The network described by ``text`` (JSON from :func:`describe`), built from torch's classes.

    The layers are constructed in the description's order under ``seed``
    (their default initialisation). Raises StudentError for a description the
    grader does not accept; never runs anything the description names except
    whitelisted torch classes and functions.

    A plain chain of layers (an ``nn.Sequential`` on the student's side) becomes an
    ``nn.Sequential`` with the same layer names, whose forward is the same sequence of calls;
    any other graph a ``torch.fx.GraphModule``. ``weights=False`` builds the layers on the meta
    device: every check runs, nothing is initialised, and the network can be inspected (its
    description, its layers) but not trained or run.

    Before anything runs for real, the forward pass runs once on the meta device (shapes only):
    it must give the described output shape and stay within :data:`MAX_FLOPS` and
    :data:`MAX_ELEMENTS` per example. ``input_shape``: the shape of the sample the grader sent for
    the description, which the description must have been traced on.
    """
    import torch

    desc = _load(text)
    if input_shape is not None and tuple(desc["input_shape"]) != tuple(input_shape):
        raise StudentError("bad_output", f"the network description was traced on an input of shape "
                           f"{tuple(desc['input_shape'])}, not on the grader's sample of shape {tuple(input_shape)}")
    with torch.device("meta"):
        shapes = [(m, _construct(m)) for m in desc["modules"]]
    size = sum(p.numel() for _, layer in shapes for p in layer.parameters())
    if size > MAX_PARAMS:
        raise refuse(f"it has {size:,} parameters (at most {MAX_PARAMS:,})", "use a smaller network")
    shape = _cost(text, tuple(desc["input_shape"])).output_shape
    graph = _graph(desc)
    from dlgrade.train import seeded

    if not weights:
        layers = shapes
    elif seed is None:
        layers = [(m, _construct(m)) for m in desc["modules"]]
    else:
        with seeded(int(seed)):
            layers = [(m, _construct(m)) for m in desc["modules"]]
    root = torch.nn.Module()
    for entry, layer in layers:
        if entry.get("frozen", False) is True:
            layer.requires_grad_(False)
        _install(root, entry["path"], layer)
    chain = _chain(graph, desc)
    module = torch.nn.Sequential(OrderedDict(root.named_children())) if chain else torch.fx.GraphModule(root, graph)
    net = Network(module, desc, text)
    built = sum(p.numel() for p in module.parameters() if p.requires_grad)
    if built != net.params:
        raise refuse(f"the model has {net.params:,} parameters but the layers its forward uses have {built:,}",
                     "every layer of the model must take part in forward, and every weight must be inside a "
                     "standard layer")
    if shape != net.output_shape:
        raise refuse(f"its output has shape {net.output_shape} but the described network gives {shape}")
    return net


def _chain(graph, desc: dict) -> bool:
    """Is ``graph`` the input, then each described layer once, in the description's order, each on the
    previous one's output, then the output, with top-level names and no frozen layer? Then an
    ``nn.Sequential`` of those layers runs exactly the graph's calls, its parameters in the same order."""
    paths = [m["path"] for m in desc["modules"]]
    if any("." in p or m.get("frozen", False) for p, m in zip(paths, desc["modules"])):
        return False
    nodes = list(graph.nodes)
    if len(nodes) != len(paths) + 2 or nodes[0].op != "placeholder" or nodes[-1].op != "output":
        return False
    for prev, node, path in zip(nodes, nodes[1:-1], paths):
        if node.op != "call_module" or node.target != path or node.args != (prev,) or node.kwargs:
            return False
    return nodes[-1].args == (nodes[-2],)


def _load(text) -> dict:
    if not isinstance(text, str):
        raise StudentError("bad_output", "the network description should be JSON text")
    if len(text) > MAX_CHARS:
        raise StudentError("bad_output", f"the network description is longer than {MAX_CHARS:,} characters")
    try:
        desc = json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    except ValueError as exc:
        raise StudentError("bad_output", f"the network description is not valid JSON ({exc})") from None
    if not isinstance(desc, dict) or desc.get("format") != FORMAT:
        raise StudentError("bad_output", f"the network description is not in the {FORMAT} format")
    modules, nodes = desc.get("modules"), desc.get("nodes")
    if not isinstance(modules, list) or not isinstance(nodes, list) or len(nodes) > MAX_NODES \
            or len(modules) > MAX_MODULES:
        raise StudentError("bad_output", "the network description has malformed or too many modules/nodes")
    for key in ("input_shape", "output_shape"):
        shape = desc.get(key)
        if not (isinstance(shape, list) and 0 < len(shape) <= 8
                and all(isinstance(s, int) and not isinstance(s, bool) and 0 <= s <= 1 << 20 for s in shape)):
            raise StudentError("bad_output", f"the network description's {key} is malformed")
    if not isinstance(desc.get("params"), int) or isinstance(desc.get("params"), bool) or desc["params"] < 0:
        raise StudentError("bad_output", "the network description's parameter count is malformed")
    if math.prod(desc["input_shape"]) > 1 << 22:
        raise StudentError("bad_output", "the network description's sample input is too large")
    return desc


def _construct(entry):
    import torch

    if not isinstance(entry, dict) or not isinstance(entry.get("class"), str) or entry["class"] not in MODULES:
        raise refuse(f"the layer class {str(entry.get('class') if isinstance(entry, dict) else entry)[:60]!r} "
                     "is not on the grader's list")
    args = entry.get("args")
    allowed = MODULES[entry["class"]]
    if not isinstance(args, dict) or not set(args) <= set(allowed) or not set(entry) <= {"path", "class", "args",
                                                                                          "frozen"}:
        raise StudentError("bad_output", f"malformed arguments for {entry['class']}")
    kwargs = {k: _tuples(v) for k, v in args.items()}
    try:
        return getattr(torch.nn, entry["class"])(**kwargs)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise StudentError("bad_output", f"{entry['class']}({kwargs}) cannot be built: {exc}"[:300]) from None


def _tuples(value):
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    if value is not None and not isinstance(value, (bool, int, float, str)):
        raise StudentError("bad_output", "malformed layer argument")
    return value


def _install(root, path: str, layer) -> None:
    import torch

    if not isinstance(path, str) or not path or len(path) > 200:
        raise StudentError("bad_output", "malformed layer path")
    parts = path.split(".")
    owner = root
    for part in parts[:-1]:
        _check_name(part)
        child = owner._modules.get(part)
        if child is None:
            child = torch.nn.Module()
            owner.add_module(part, child)
        owner = child
    _check_name(parts[-1])
    if parts[-1] in owner._modules:
        raise StudentError("bad_output", f"layer path {path!r} appears twice")
    owner.add_module(parts[-1], layer)


def _check_name(part: str) -> None:
    if not part.replace("_", "a").isalnum() or not part.isascii():
        raise StudentError("bad_output", f"malformed layer name {part[:40]!r}")


def _graph(desc: dict):
    import torch
    import torch.fx as fx

    table = _function_table()
    paths = {m["path"] for m in desc["modules"]}
    graph = fx.Graph()
    env: dict = {}
    done = False

    def value(v, depth=0):
        if depth > 8:
            raise StudentError("bad_output", "network description nested too deeply")
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        if isinstance(v, list):
            return [value(x, depth + 1) for x in v]
        if isinstance(v, dict) and set(v) == {"node"} and v["node"] in env:
            return env[v["node"]]
        if isinstance(v, dict) and set(v) == {"slice"} and isinstance(v["slice"], list) and len(v["slice"]) == 3 \
                and all(x is None or (isinstance(x, int) and not isinstance(x, bool)) for x in v["slice"]):
            return slice(*v["slice"])
        if isinstance(v, dict) and set(v) == {"tuple"} and isinstance(v["tuple"], list):
            return tuple(value(x, depth + 1) for x in v["tuple"])
        raise StudentError("bad_output", "malformed argument in the network description")

    def call_args(node):
        args, kwargs = node.get("args", []), node.get("kwargs", {})
        if not isinstance(args, list) or not isinstance(kwargs, dict) or not all(isinstance(k, str) for k in kwargs):
            raise StudentError("bad_output", "malformed node in the network description")
        return tuple(value(a) for a in args), {k: value(v) for k, v in kwargs.items()}

    for node in desc["nodes"]:
        if done or not isinstance(node, dict) or not isinstance(node.get("name"), str) or node["name"] in env:
            raise StudentError("bad_output", "malformed node in the network description")
        op, target = node.get("op"), node.get("target")
        if op == "input":
            if env:
                raise StudentError("bad_output", "the network description's input must come first")
            env[node["name"]] = graph.placeholder("x")
            continue
        if not env:
            raise StudentError("bad_output", "the network description has no input")
        args, kwargs = call_args(node)
        if op == "output":
            if len(args) != 1 or not isinstance(args[0], fx.Node):
                raise StudentError("bad_output", "malformed output in the network description")
            graph.output(args[0])
            done = True
            continue
        if op == "module" and target in paths:
            env[node["name"]] = graph.call_module(target, args, kwargs)
        elif op == "function" and target in FUNCTIONS:
            if target == "getattr" and (len(args) != 2 or args[1] != "shape" or kwargs):
                raise refuse("its description reads an attribute other than .shape")
            env[node["name"]] = graph.call_function(table[target], args, kwargs)
        elif op == "method" and target in METHODS:
            env[node["name"]] = graph.call_method(target, args, kwargs)
        else:
            raise refuse(f"its description uses {str(op)[:20]} {str(target)[:60]!r}, which is not on the "
                         "grader's list")
    if not done:
        raise StudentError("bad_output", "the network description has no output")
    graph.lint()
    return graph


@dataclass(frozen=True)
class Cost:
    """What a described network's forward pass takes on one input batch, counted on the meta device."""

    output_shape: tuple
    flops: int
    """Multiply-adds of its Linear and convolution layers, times two (as torch's ``FlopCounterMode``
    counts them); everything else in a forward pass is small beside them."""
    elements: int
    """Tensor elements produced, summed over the forward pass's operations."""


@functools.lru_cache(maxsize=4096)
def _cost(text: str, input_shape: tuple) -> Cost:
    """The :class:`Cost` of the network ``text`` describes on an input of ``input_shape``, refusing one above
    :data:`MAX_FLOPS` or :data:`MAX_ELEMENTS` per example. It depends on the text only, and a class's
    submissions describe the same few networks, each rebuilt many times: kept per (text, shape)."""
    import torch

    desc = _load(text)
    with torch.device("meta"):
        shapes = [(m, _construct(m)) for m in desc["modules"]]
    what = "the sample input" if list(input_shape) == desc["input_shape"] else f"an input of shape {input_shape}"
    return _measure(_meta_root(shapes), _graph(desc), input_shape, what=what)


def _meta_root(shapes: list):
    import torch

    root = torch.nn.Module()
    for entry, layer in shapes:
        _install(root, entry["path"], layer)
    return root


def _measure(root, graph, input_shape, *, what: str = "the sample input") -> Cost:
    """Run ``graph`` over the layers of ``root`` (built on the meta device) on an input of
    ``input_shape``, in eval mode, counting FLOPs and elements; refuse a network above
    :data:`MAX_FLOPS` or :data:`MAX_ELEMENTS` per example, stopping as soon as it is, and one that adds
    tensors of different shapes (then its cost per example would depend on the batch)."""
    import torch

    examples = max(1, int(input_shape[0]))
    counter = _counting_interpreter()(root.eval(), graph, examples)
    try:
        with torch.no_grad():
            out = counter.run(torch.zeros(input_shape, device="meta"))
    except _Refused:
        raise refuse(*counter.refusal) from None
    except Exception as exc:  # noqa: BLE001 - a description whose operations do not fit together
        raise refuse(f"the described network does not run on {what} ({type(exc).__name__}: "
                     f"{str(exc)[:200]})") from None
    finally:
        root.train()
    if not isinstance(out, torch.Tensor):
        raise refuse("the described network does not return one tensor")
    return Cost(tuple(out.shape), counter.flops, counter.elements)


class _Refused(Exception):
    """Raised by the counting interpreter at a node it refuses (its ``refusal`` says why)."""


@functools.cache
def _counting_interpreter():
    import torch
    import torch.fx as fx

    linear, convs = torch.nn.Linear, (torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d)
    transposed = (torch.nn.ConvTranspose1d, torch.nn.ConvTranspose2d)

    class Counting(fx.Interpreter):
        """Runs a forward graph node by node, adding up the FLOPs of its Linear and convolution layers
        and the elements each node produces, and stops as soon as either passes its limit."""

        def __init__(self, root, graph, examples: int):
            super().__init__(root, graph=graph)
            self.extra_traceback = False        # errors keep their own message, without the node's
            self.examples, self.flops, self.elements, self.refusal = examples, 0, 0, ()

        def call_function(self, target, args, kwargs):
            if target in (operator.add, torch.add):
                self._same_shapes(args, kwargs)
            return super().call_function(target, args, kwargs)

        def call_method(self, target, args, kwargs):
            if target == "add":
                self._same_shapes(args, kwargs)
            return super().call_method(target, args, kwargs)

        def _same_shapes(self, args, kwargs):
            """Two tensors are added only when their shapes are equal: broadcasting ``(B, 1, n) + (1, B, n)``
            would make a network's cost per example grow with the batch, past what is measured here."""
            shapes = [tuple(v.shape) for v in (*args, *kwargs.values()) if isinstance(v, torch.Tensor)]
            if len(set(shapes)) > 1:
                self.refusal = (f"its forward pass adds tensors of different shapes {shapes[0]} and {shapes[1]}",
                                "add tensors of the same shape only (a residual connection adds x to a block's "
                                "output of x's shape)")
                raise _Refused()

        def call_module(self, target, args, kwargs):
            out = super().call_module(target, args, kwargs)
            layer = self.fetch_attr(target)
            if isinstance(layer, linear):
                self.flops += 2 * layer.in_features * out.numel()
            elif isinstance(layer, convs):
                self.flops += 2 * out.numel() * math.prod(layer.weight.shape[1:])
            elif isinstance(layer, transposed):
                self.flops += 2 * args[0].numel() * math.prod(layer.weight.shape[1:])
            return out

        def run_node(self, n):
            value = super().run_node(n)
            values = value if isinstance(value, (tuple, list)) else (value,)
            self.elements += sum(v.numel() for v in values if isinstance(v, torch.Tensor))
            if self.elements > MAX_ELEMENTS * self.examples:
                self._refuse(f"its forward pass produces more than {MAX_ELEMENTS:,} numbers per example")
            if self.flops > MAX_FLOPS * self.examples:
                self._refuse(f"its forward pass needs more than {flops_text(MAX_FLOPS)} per example")
            return value

        def _refuse(self, what: str):
            self.refusal = (what, "use fewer or narrower layers, or pool earlier")
            raise _Refused()

    return Counting


def flops_text(n: float) -> str:
    """``n`` FLOPs for people: ``20.7 MFLOP``."""
    for scale, unit in ((1e9, "GFLOP"), (1e6, "MFLOP"), (1e3, "kFLOP")):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n:.0f} FLOP"
