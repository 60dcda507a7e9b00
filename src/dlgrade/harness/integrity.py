"""Has a notebook changed dlgrade's or torch's own objects? Two checks made from outside its process.

Hidden tests rely on objects dlgrade builds in the student's process (probes,
optimizers, the training engine, ``describe``); a notebook that replaces
``dlgrade.harness.factories._probe`` or ``torch.nn.Module.eval`` could make
them agree with a wrong answer. Two checks catch that:

* :func:`scan_sources`: the grader reads the notebook's code and lists every
  assignment to an attribute of a ``dlgrade``/``torch`` object
  (``torch.nn.Module.eval = ...``, ``factories._probe = ...``, ``setattr(nn.Module, ...)``),
  following import aliases;
* :func:`fingerprints`: digests of the code of dlgrade's harness and training
  modules and of the torch functions they use. The student's side reports them
  (the ``integrity`` request) after its code ran; the grader compares them with
  its own, computed here from the same installed files.

A question that used dlgrade's objects on the student's side while either
check finds something is flagged for review and held at 0
(``Submission.integrity_findings``, applied by ``harness.questions.run_question``).
"""
from __future__ import annotations

import ast
import hashlib
import importlib
import types

DLGRADE_MODULES = ("dlgrade.harness.factories", "dlgrade.harness.ops", "dlgrade.harness.values",
                   "dlgrade.harness.netdesc", "dlgrade.harness.integrity", "dlgrade.harness.errors",
                   "dlgrade.train.engine", "dlgrade.train.evaluation", "dlgrade.train.recipe",
                   "dlgrade.train.seeding", "dlgrade.train.tensors", "dlgrade.data._base")
"""Modules whose functions and classes are fingerprinted whole."""
TORCH_OBJECTS = ("torch.nn.Module", "torch.nn.Linear", "torch.nn.Conv2d", "torch.nn.modules.batchnorm._BatchNorm",
                 "torch.nn.BatchNorm1d", "torch.nn.Dropout", "torch.nn.Flatten", "torch.nn.ReLU",
                 "torch.nn.Sequential", "torch.nn.CrossEntropyLoss", "torch.nn.MSELoss", "torch.nn.NLLLoss",
                 "torch.optim.Optimizer", "torch.optim.SGD", "torch.optim.Adam", "torch.utils.data.DataLoader",
                 "torch.utils.data.TensorDataset", "torch.no_grad", "torch.enable_grad", "torch.set_grad_enabled",
                 "torch.is_grad_enabled", "torch.nn.functional", "torch.Tensor.backward", "torch.autograd.backward",
                 "torch.fx.Tracer", "torch.fx.symbolic_trace", "torch.fx.GraphModule",
                 "torch.fx.passes.shape_prop.ShapeProp", "torch.manual_seed", "torch.as_tensor")
"""torch objects (classes, modules, functions) the grader's checks go through."""
ROOTS = ("dlgrade", "torch")
ALLOWED = ("torch.backends.",)
"""Settings a notebook may assign (``torch.backends.cudnn.benchmark = True``)."""


def fingerprints() -> dict[str, str]:
    """Name -> digest of each watched object, as it is in this process now."""
    out = {}
    for name in DLGRADE_MODULES:
        module = importlib.import_module(name)
        for attr, value in sorted(vars(module).items()):
            if _defined_in(value, name):
                out[f"{name}.{attr}"] = _digest(value)
        if name == "dlgrade.harness.factories":
            out[f"{name}._FACTORIES"] = _digest(dict(module._FACTORIES))
    for name in TORCH_OBJECTS:
        out[name] = _digest(_resolve(name))
    hooks = importlib.import_module("torch.nn.modules.module")
    out["torch.nn.modules.module global hooks"] = ",".join(
        f"{k}:{len(v)}" for k, v in sorted(vars(hooks).items()) if k.startswith("_global_") and isinstance(v, dict))
    return out


def compare(reported, expected: dict[str, str]) -> list[str]:
    """Names whose reported digest differs from ``expected`` (the grader's), or all when malformed."""
    if not isinstance(reported, dict):
        return ["(no fingerprints came back)"]
    return sorted(name for name, digest in expected.items() if reported.get(name) != digest)


def _resolve(dotted: str):
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for part in parts[i:]:
            obj = getattr(obj, part)
        return obj
    raise ImportError(dotted)


def _defined_in(value, module: str) -> bool:
    return isinstance(value, (types.FunctionType, type)) and getattr(value, "__module__", None) == module


def _digest(value) -> str:
    return hashlib.sha256(_describe(value, 0).encode("utf-8", "backslashreplace")).hexdigest()[:24]


def _describe(value, depth: int) -> str:
    """A text that changes when ``value``'s behaviour is replaced (code, defaults, closure, members)."""
    if depth > 3:
        return type(value).__qualname__
    if isinstance(value, types.FunctionType):
        value = _unwrap(value)
        cells = []
        for cell in value.__closure__ or ():
            try:
                cells.append(_describe(cell.cell_contents, depth + 1))
            except ValueError:  # an empty cell
                cells.append("<empty>")
        return (f"fn {value.__module__}.{value.__qualname__} {_code(value.__code__)} "
                f"{_safe_repr(value.__defaults__)} {_safe_repr(value.__kwdefaults__)} [{','.join(cells)}]")
    if isinstance(value, (staticmethod, classmethod)):
        return f"{type(value).__name__}({_describe(value.__func__, depth + 1)})"
    if isinstance(value, property):
        return "property(" + ",".join(_describe(f, depth + 1) for f in (value.fget, value.fset, value.fdel)) + ")"
    if isinstance(value, type):
        members = [f"{k}={_describe(v, depth + 1)}" for k, v in sorted(vars(value).items())
                   if k not in ("__doc__", "__dict__", "__weakref__", "__annotations__", "_abc_impl")]
        return f"class {value.__module__}.{value.__qualname__} mro={[c.__qualname__ for c in value.__mro__]} " \
               + ";".join(members)
    if isinstance(value, types.ModuleType):
        return f"module {value.__name__} " + ";".join(
            f"{k}={_describe(v, depth + 1)}" for k, v in sorted(vars(value).items())
            if callable(v) and not isinstance(v, type) and not k.startswith("__"))
    if isinstance(value, dict):
        return "{" + ",".join(f"{k!r}:{_describe(v, depth + 1)}" for k, v in sorted(value.items(), key=repr)) + "}"
    if isinstance(value, (types.BuiltinFunctionType, types.MethodDescriptorType, types.WrapperDescriptorType,
                          types.MethodWrapperType, types.GetSetDescriptorType, types.MemberDescriptorType)):
        return f"builtin {type(value).__name__} {getattr(value, '__qualname__', getattr(value, '__name__', ''))}"
    if isinstance(value, (int, float, str, bool, type(None), tuple)):
        return _safe_repr(value)
    return f"object {type(value).__module__}.{type(value).__qualname__}"


def _unwrap(fn):
    """``fn`` without the wrappers torch and dlgrade put around their own functions at run time
    (the optimizer's profiling hook, dynamo's ``disable``): a layer whose code lives in their
    packages and that names what it wraps (``__wrapped__``) is skipped. A wrapper written
    anywhere else is kept, and so changes the digest."""
    for _ in range(16):
        inner = getattr(fn, "__wrapped__", None)
        if not isinstance(inner, types.FunctionType) or not fn.__code__.co_filename.startswith(_trusted_dirs()):
            return fn
        fn = inner
    return fn


def _trusted_dirs() -> tuple[str, ...]:
    if not _TRUSTED:
        import os

        import torch

        import dlgrade

        _TRUSTED.extend(os.path.dirname(m.__file__) + os.sep for m in (torch, dlgrade))
    return tuple(_TRUSTED)


_TRUSTED: list[str] = []


def _code(code: types.CodeType) -> str:
    text = _CODE_TEXT.get(code)
    if text is None:
        consts = [_code(c) if isinstance(c, types.CodeType) else _safe_repr(c) for c in code.co_consts]
        text = _CODE_TEXT[code] = f"<{code.co_name} {code.co_code.hex()} {consts} {code.co_names}>"
    return text


_CODE_TEXT: dict[types.CodeType, str] = {}
"""The text of each code object described so far. Code objects are immutable and compare equal only when
their bytecode, constants and names are (everything the text says), so an entry never goes stale: a
function given other code gets another entry. Filled on the first :func:`fingerprints`, and by the
worker before it forks a process per submission, so later checks only walk the objects."""


def _safe_repr(value) -> str:
    if isinstance(value, (tuple, list)):
        return "(" + ",".join(_safe_repr(v) for v in value) + ")"
    if value is None or isinstance(value, (int, float, str, bool, bytes)):
        return repr(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{k!r}:{_safe_repr(v)}" for k, v in value.items()) + "}"
    return f"<{type(value).__module__}.{type(value).__qualname__}>"


# -- the notebook's source -----------------------------------------------------------------

def scan_sources(sources) -> list[str]:
    """Assignments into ``dlgrade``/``torch`` objects found in the notebook's code cells, as
    ``"cell N: torch.nn.Module.eval"`` lines (cells numbered from 1, as given)."""
    found = []
    aliases: dict[str, str] = {}
    for number, source in enumerate(sources, start=1):
        try:
            tree = ast.parse(_strip_magics(source))
        except SyntaxError:
            continue
        _update_aliases(tree, aliases)
        for node in ast.walk(tree):
            for target in _targets(node, aliases):
                if not target.startswith(ALLOWED):
                    found.append(f"cell {number}: {target}")
    return found


def _strip_magics(source: str) -> str:
    return "\n".join("pass" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def _update_aliases(tree, aliases: dict) -> None:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in ROOTS:
                    if alias.asname:
                        aliases[alias.asname] = alias.name
                    else:
                        aliases[alias.name.split(".")[0]] = alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in ROOTS:
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            resolved = _chain(node.value, aliases)
            if resolved:
                aliases[node.targets[0].id] = resolved
            else:
                aliases.pop(node.targets[0].id, None)


def _chain(node, aliases: dict) -> str | None:
    """The dotted dlgrade/torch path an expression names, or None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        base = aliases.get(node.id)
        if base is None:
            return None
    elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and \
            isinstance(node.slice.value, str) and node.slice.value.split(".")[0] in ROOTS:
        base = node.slice.value                    # sys.modules["dlgrade.harness.factories"]
    elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) and \
            isinstance(node.args[0].value, str) and node.args[0].value.split(".")[0] in ROOTS:
        base = node.args[0].value                  # importlib.import_module("torch.nn")
    else:
        return None
    return ".".join([base, *reversed(parts)])


def _targets(node, aliases: dict) -> list[str]:
    targets = []
    if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
        items = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
        for item in items:
            for leaf in ast.walk(item) if isinstance(item, (ast.Tuple, ast.List)) else [item]:
                if isinstance(leaf, (ast.Attribute, ast.Subscript)):
                    owner = leaf.value
                    path = _chain(owner, aliases)
                    if path:
                        name = leaf.attr if isinstance(leaf, ast.Attribute) else "[...]"
                        targets.append(f"{path}.{name}")
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
            node.func.id in ("setattr", "delattr") and node.args:
        path = _chain(node.args[0], aliases)
        if path:
            name = node.args[1].value if len(node.args) > 1 and isinstance(node.args[1], ast.Constant) else "?"
            targets.append(f"{path}.{name}")
    return targets
