"""The student side of the harness: answers requests against a notebook namespace.

:class:`Dispatcher` runs in the student's process (the sandboxed worker, or the
student's own kernel for ``check``). It receives a request dict, does what it
asks with the student's namespace, and returns a response dict. Requests and
responses are plain JSON; arrays travel through the store. Student code runs
here and nowhere else; verdicts are never computed here.
"""
from __future__ import annotations

import contextlib
import hashlib
import inspect
import random
import traceback

import numpy as np

from dlgrade.harness import factories
from dlgrade.harness.errors import StudentError
from dlgrade.harness.values import Ref, decode, encode


@contextlib.contextmanager
def seeded(seed: int | None):
    """Seed python, numpy and torch around model construction (no-op for None)."""
    if seed is None:
        yield
        return
    from dlgrade.train.seeding import seed_torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    seed_torch(seed)
    yield


class Dispatcher:
    """Answers harness requests against ``namespace`` (the notebook's globals)."""

    def __init__(self, namespace: dict, store, *, device: str = "auto", datasets=None):
        self.ns = namespace
        self.store = store
        self.device = device
        self.objects: dict[int, object] = {}
        self._datasets = datasets if datasets is not None else {}
        self._defined: dict[str, dict] = {}  # an exercise's factories, by digest of their source

    # -- plumbing -------------------------------------------------------------
    def register(self, obj) -> Ref:
        ref_id = len(self.objects) + 1
        while ref_id in self.objects:
            ref_id += 1
        self.objects[ref_id] = obj
        kind = type(obj)
        try:
            text = repr(obj)
        except Exception:  # a broken __repr__ in student code
            text = f"<{kind.__name__}>"
        return Ref(ref_id, f"{kind.__module__}.{kind.__qualname__}", text[:200])

    def resolve(self, ref_id: int):
        if ref_id not in self.objects:
            raise StudentError("bad_output", f"object #{ref_id} no longer exists")
        return self.objects[ref_id]

    def _in(self, data):
        return decode(data, self.store, self.resolve)

    def _in_kwargs(self, data) -> dict:
        kwargs = self._in(data) if data else {}
        if not isinstance(kwargs, dict) or not all(isinstance(k, str) for k in kwargs):
            raise StudentError("bad_output", "malformed keyword arguments")
        return kwargs

    def _out(self, value):
        return encode(value, self.store, self.register)

    def handle(self, request: dict) -> dict:
        """Run one request; never raises for problems caused by student code."""
        op = request.get("op")
        handler = getattr(self, f"op_{op}", None) if isinstance(op, str) else None
        if handler is None:
            return {"ok": False, "error": {"kind": "exception", "message": f"unknown request {op!r}"}}
        fields = request.get("fields", {})
        if isinstance(fields, dict) and "release_first" in fields:     # see Submission.release
            fields = dict(fields)
            self.op_release(fields.pop("release_first"))
        try:
            return {"ok": True, "value": handler(**fields)}
        except StudentError as exc:
            return {"ok": False, "error": exc.to_dict()}
        except NotImplementedError as exc:
            return {"ok": False, "error": {"kind": "not_implemented",
                                           "message": _not_implemented_message(request, exc)}}
        except RecursionError:
            return {"ok": False, "error": {"kind": "exception", "message": "RecursionError: maximum recursion depth exceeded"}}
        except MemoryError:
            return {"ok": False, "error": {"kind": "crashed", "message": "ran out of memory"}}
        except Exception as exc:  # noqa: BLE001 - any error in student code is reported
            if op in MEASURING_OPS and not _from_student_code(exc):
                return {"ok": False, "error": {
                    "kind": "grader_error", "detail": "".join(traceback.format_exception_only(type(exc), exc))[-2000:],
                    "message": f"the grader's own measurement ({op}) failed on your object: "
                               f"{type(exc).__name__}: {exc}"[:1000]}}
            return {"ok": False, "error": describe_exception(exc)}

    def _lookup(self, name: str):
        if not isinstance(name, str) or name not in self.ns:
            raise StudentError("missing", f"`{name}` is not defined in the notebook")
        return self.ns[name]

    def _callable(self, name: str):
        fn = self._lookup(name)
        if not callable(fn):
            raise StudentError("bad_output", f"`{name}` should be a function but is a {type(fn).__name__}")
        return fn

    # -- requests ---------------------------------------------------------------
    def op_has(self, name):
        return name in self.ns

    def op_get(self, name):
        return self._out(self._lookup(name))

    def op_signature(self, name):
        try:
            params = inspect.signature(self._callable(name)).parameters
        except (TypeError, ValueError):
            return None
        return [p.name for p in params.values()]

    def op_call(self, name, args=(), kwargs=None, seed=None):
        fn = self._callable(name)
        args = self._in(list(args))
        kwargs = self._in_kwargs(kwargs)
        with seeded(seed):
            return self._out(fn(*args, **kwargs))

    def op_method(self, ref, name, args=(), kwargs=None):
        obj = self.resolve(ref)
        if not isinstance(name, str) or name.startswith("_"):
            raise StudentError("bad_output", f"method {name!r} may not be called")
        method = getattr(obj, name)
        return self._out(method(*self._in(list(args)), **self._in_kwargs(kwargs)))

    def op_make(self, factory, args=(), kwargs=None, seed=None, source=None, label=None):
        """Build a trusted object; an exercise's own factories come with their ``source``, run here once."""
        if source is None:
            make = factories.get(factory)
        else:
            key = hashlib.sha256(str(source).encode()).hexdigest()
            if key not in self._defined:
                self._defined[key] = factories.define(str(source), str(label or "factories.py"))
            if factory not in self._defined[key]:
                raise StudentError("exception", f"unknown grader object {factory!r}")
            make = self._defined[key][factory]
        with seeded(seed):
            return self._out(make(*self._in(list(args)), **self._in_kwargs(kwargs)))

    def op_describe(self, ref):
        return self._out(factories.describe(self.resolve(ref)))

    def op_state_dict(self, ref):
        module = factories.as_module(self.resolve(ref))
        return self._out({k: v.detach().cpu() for k, v in module.state_dict().items()})

    def op_load_state(self, ref, state):
        module = factories.as_module(self.resolve(ref))
        module.load_state_dict(self._in(state))
        return None

    def op_dataset(self, name, options=None):
        key = (name, tuple(sorted((options or {}).items())))
        if key not in self._datasets:
            from dlgrade.data import load

            self._datasets[key] = load(name, **(options or {}))
        return self._out(self._datasets[key])

    def op_train(self, model, data, recipe, seed=0):
        from dlgrade.train import Recipe, fit

        module = factories.as_module(self.resolve(model))
        result = fit(module, self.resolve(data), Recipe.from_dict(recipe, where="grader recipe"),
                     seed=seed, device=self.device)
        return self._out(factories.fit_summary(result))

    def op_predict(self, model, X, batch_size=1024):
        import torch

        from dlgrade.train import predict

        module = factories.as_module(self.resolve(model))
        inputs = self._in(X)
        if not isinstance(inputs, torch.Tensor):
            inputs = torch.as_tensor(inputs)
        return self._out(predict(module, inputs, device=self.device, batch_size=batch_size))

    def op_network(self, ref, sample):
        """The JSON description of a student's network (see ``harness.netdesc``): text, never weights."""
        from dlgrade.harness import netdesc

        return netdesc.describe(self.resolve(ref), self._in(sample))

    def op_integrity(self):
        """Fingerprints of dlgrade's and torch's objects as they are now (compared on the grader's side)."""
        from dlgrade.harness.integrity import fingerprints

        return self._out(fingerprints())

    def op_release(self, refs):
        for ref_id in refs if isinstance(refs, list) else ():
            if isinstance(ref_id, int):
                self.objects.pop(ref_id, None)
        return None


def _not_implemented_message(request: dict, exc: Exception) -> str:
    name = request.get("fields", {}).get("name")
    what = f"`{name}`" if name else "this part"
    hint = f" ({exc})" if str(exc) else ""
    return f"{what} is not implemented yet: the stub still raises NotImplementedError{hint}"


WARM_MODULES = ("dlgrade.harness.netdesc", "dlgrade.harness.integrity", "torch.fx.passes.shape_prop",
                "torch.fx.experimental.symbolic_shapes", "matplotlib.backends.backend_agg", "contourpy")
"""Modules that answering requests imports on first use: describing networks (torch.fx), the integrity
check, drawing figures (``figure_data``, a student's ``contourf``)."""


def warm_up() -> list[str]:
    """Do once, in a process that forks one process per submission, the first-use work of answering
    requests: import :data:`WARM_MODULES`, trace a network, describe dlgrade's and torch's objects once
    and remember what the description read (``integrity.remember``: later checks only test those
    objects), and lay out a figure, so that no submission's process pays for it again. Returns what
    could not be done (a module that is not installed), for the worker's warnings."""
    import importlib

    problems = []
    for name in WARM_MODULES:
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - an optional module: imported on demand, or never needed
            problems.append(f"cannot import {name}: {type(exc).__name__}: {exc}")
    try:
        _describe_a_network()
    except Exception as exc:  # noqa: BLE001 - the first description of each submission does it instead
        problems.append(f"cannot describe a network ahead: {type(exc).__name__}: {exc}")
    try:
        from dlgrade.harness.integrity import remember

        _first_use_of_torch()
        remember()
    except Exception as exc:  # noqa: BLE001 - the first integrity request does it instead
        problems.append(f"cannot describe dlgrade's objects ahead: {type(exc).__name__}: {exc}")
    try:
        _lay_out_a_figure()
    except Exception as exc:  # noqa: BLE001 - the first figure of each submission does it instead
        problems.append(f"cannot lay out a figure ahead: {type(exc).__name__}: {exc}")
    return problems


def _describe_a_network() -> None:
    """Describe a small network whose forward is its own code (a layer in a ModuleList, torch.relu, a view):
    torch.fx's first trace in a process sets up what every later trace reuses."""
    import torch

    from dlgrade.harness import netdesc

    class Warm(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden = torch.nn.ModuleList([torch.nn.Linear(2, 2)])

        def forward(self, x):
            for layer in self.hidden:
                x = torch.relu(layer(x))
            return x.view(x.size(0), -1)

    netdesc.describe(Warm(), torch.zeros(1, 2))


def _first_use_of_torch() -> None:
    """Call what torch wraps in place on first use: ``torch.manual_seed`` (dynamo's ``disable``) and each
    optimizer class's ``step`` (its profiling hook), so that the objects the integrity check remembers are
    those every submission's process sees. The random generator's state is left as it was."""
    import torch

    state = torch.get_rng_state()
    try:
        torch.manual_seed(0)
    finally:
        torch.set_rng_state(state)
    weight = torch.nn.Parameter(torch.zeros(1))
    weight.grad = torch.zeros(1)
    for kind in (torch.optim.SGD, torch.optim.Adam):
        kind([weight], lr=0.1).step()


def _lay_out_a_figure() -> None:
    """Lay out (without rendering) a figure with what students draw: an image, filled contours, points,
    text, ticks and math-text labels (``"$x_1$"``); the fonts, text metrics, contour code and math-text
    parser it loads stay warm for every submission."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure()
    FigureCanvasAgg(fig)
    ax, other = fig.subplots(1, 2)
    ax.imshow(np.eye(3))
    ax.text(0, 0, "1", ha="center", va="center")
    ax.set_xticks(range(3), labels=["a", "b", "c"], rotation=45)
    ax.set_xlabel("Predicted")
    ax.set_title("title")
    grid = np.linspace(0, 1, 20)
    other.contourf(grid, grid, np.outer(grid, grid) > 0.25, alpha=0.3)
    other.scatter([0.1, 0.9], [0.1, 0.9])
    other.set_xlabel("$x_1$")
    other.set_ylabel(r"$\hat{y}$")
    fig.draw_without_rendering()


MEASURING_OPS = frozenset({"describe", "state_dict", "make", "integrity", "dataset"})
"""Requests that run dlgrade's own code (measuring or building), not the student's forward or functions."""


def _from_student_code(exc: BaseException) -> bool:
    """Did a frame of the traceback run code of the notebook's cells?"""
    return any(frame.filename.startswith("<cell") for frame in traceback.extract_tb(exc.__traceback__))


def describe_exception(exc: BaseException) -> dict:
    """A student-facing description: type, message and where in the notebook it happened."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = ""
    for frame in reversed(frames):
        if frame.filename.startswith("<cell"):
            where = f" (at {frame.filename.strip('<>')}, line {frame.lineno})"
            break
    text = f"{type(exc).__name__}: {exc}"[:1000]
    detail = "".join(traceback.format_exception_only(type(exc), exc))[-2000:]
    return {"kind": "exception", "message": text + where, "detail": detail}
