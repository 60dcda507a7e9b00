"""The grader's view of a student's notebook: the API hidden tests are written against.

A hidden test never touches student objects directly. It asks a
:class:`Submission` to call a function, build a model, train it with the
grader's recipe or predict on inputs, and gets back plain data (numbers,
strings, numpy arrays, torch tensors) or :class:`~dlgrade.harness.values.Ref`
handles to objects that stay on the student's side. Two implementations share
this API and the same value encoding:

* :class:`LocalSubmission` answers in-process (``check`` inside the notebook);
* ``dlgrade.sandbox.RemoteSubmission`` answers from a sandboxed worker.

Every method raises :class:`~dlgrade.harness.errors.StudentError` when the
student's code cannot answer.
"""
from __future__ import annotations

import abc
import contextlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dlgrade.harness.errors import BadOutput, StudentError
from dlgrade.harness.values import MemoryStore, Ref, decode, encode


@dataclass(frozen=True)
class CellRun:
    """How one notebook cell went when the notebook was executed."""

    index: int
    """Position of the cell among all cells of the notebook."""
    cell_id: str
    """The cell's nbformat id (stable between template and submission)."""
    status: str
    """"ok", "error", "skipped" (heavy training / self-check cells) or "not_run"."""
    message: str = ""
    """For errors: the exception, as the student should read it."""


@dataclass
class Submission(abc.ABC):
    """Base class: the request methods are shared; subclasses move the requests."""

    cells: list[CellRun] = field(default_factory=list)
    """What happened to each code cell when the notebook ran."""
    markdown_answers: dict[str, str] = field(default_factory=dict)
    """Short-answer texts keyed by question id, read from the notebook by the grader."""
    figures: list[Path] = field(default_factory=list)
    """PNG files of the figures the notebook drew."""
    timeout: float = 60.0
    """Default time limit for one request, in seconds."""
    sources: list[str] = field(default_factory=list)
    """The notebook's code cells as graded: scanned for changes to dlgrade's and torch's objects."""
    _released: list[int] = field(default_factory=list, init=False, repr=False, compare=False)
    networks: dict[str, str] = field(default_factory=dict, init=False, repr=False, compare=False)
    """Descriptions of the networks the notebook's builders returned, by builder, arguments and sample
    shape (see ``harness.models.grader_network``): a builder is described once per submission."""
    seconds: dict[str, float] = field(default_factory=dict, init=False, repr=False, compare=False)
    """Where this side's time went, in seconds: ``train`` (waiting for the student's side to train: the
    ``train`` request and calls made with ``trains=True``), ``requests`` (waiting for it to answer the
    other requests), ``integrity`` (the checks of :meth:`integrity_findings`) and ``exchange`` (encoding
    and decoding values: arrays written and read). None of them overlap."""

    @abc.abstractmethod
    def _send(self, op: str, fields: dict, timeout: float):
        """Send ``{"op", "fields"}`` to the student side; return the decoded value or raise StudentError."""

    @abc.abstractmethod
    def _store(self):
        """The array store this side writes arguments to."""

    def _request(self, op: str, timeout: float | None = None, *, trains: bool = False, **fields):
        if self._released:                 # objects freed since the last request travel with this one
            fields["release_first"], self._released = self._released, []
        with self._timed("train" if op == "train" or trains else "requests"):
            value = self._send(op, fields, self.timeout if timeout is None else timeout)
        if op in TRUSTED_OPS:
            self._used_trusted = True
        return value

    def _enc(self, value):
        with self._timed("exchange"):
            return encode(value, self._store())

    def _dec(self, value, store):
        """:func:`~dlgrade.harness.values.decode` of a reply, timed as ``exchange``."""
        with self._timed("exchange"):
            return decode(value, store)

    @contextlib.contextmanager
    def _timed(self, kind: str | None):
        """Add the seconds of the block to ``seconds[kind]``, less what nested blocks counted (None: not kept)."""
        start, inner = time.perf_counter(), sum(self.seconds.values())
        try:
            yield
        finally:
            if kind is not None:
                nested = sum(self.seconds.values()) - inner
                self.seconds[kind] = self.seconds.get(kind, 0.0) + time.perf_counter() - start - nested

    # -- names ------------------------------------------------------------------
    def has(self, name: str) -> bool:
        """Is ``name`` defined in the notebook?"""
        return bool(self._request("has", name=name))

    def get(self, name: str):
        """The value of a notebook variable (plain data, or a Ref)."""
        return self._request("get", name=name)

    def signature(self, name: str) -> list[str] | None:
        """Parameter names of a notebook function (None when not introspectable)."""
        return self._request("signature", name=name)

    # -- calls ------------------------------------------------------------------
    def call(self, name: str, *args, **kwargs):
        """Call notebook function ``name``; arguments may be plain data, arrays, tensors or Refs."""
        return self._request("call", name=name, args=self._enc(list(args)), kwargs=self._enc(kwargs))

    def call_with(self, name: str, args=(), kwargs=None, *, seed: int | None = None,
                  timeout: float | None = None, trains: bool = False):
        """:meth:`call` with a seeded RNG (torch, numpy, random) and/or its own time limit.

        ``trains``: the function fits a model (a student's ``train_forest`` or ``train_epoch``), so its
        time is counted as ``train``, as the grader's own training is, not as ``requests``."""
        return self._request("call", timeout, trains=trains, name=name, args=self._enc(list(args)),
                             kwargs=self._enc(kwargs or {}), seed=seed)

    def method(self, ref: Ref, name: str, *args, **kwargs):
        """Call public method ``name`` of a student-side object."""
        return self._request("method", ref=ref.id, name=name, args=self._enc(list(args)),
                             kwargs=self._enc(kwargs))

    def make(self, factory: str, *args, seed: int | None = None, trains: bool = False, **kwargs) -> Ref:
        """Build one of dlgrade's trusted objects (see ``harness.factories``) on the student side.

        An exercise's own factory (``autograder/<ex>/factories.py``) travels as source with the request.
        ``trains``: the factory fits a model (forest's known forest), counted as training (see
        :meth:`call_with`).
        """
        from dlgrade.harness.factories import exercise_source

        own = exercise_source(factory)
        extra = {"source": own[1], "label": own[0]} if own else {}
        return self._request("make", trains=trains, factory=factory, args=self._enc(list(args)),
                             kwargs=self._enc(kwargs), seed=seed, **extra)

    # -- models -----------------------------------------------------------------
    def describe(self, ref: Ref) -> dict:
        """Type, trainable parameter count and module list of a student object."""
        return self._request("describe", ref=ref.id)

    def state_dict(self, ref: Ref) -> dict:
        """A module's state dict as tensors."""
        return self._request("state_dict", ref=ref.id)

    def load_state(self, ref: Ref, state: dict) -> None:
        self._request("load_state", ref=ref.id, state=self._enc(state))

    def dataset(self, name: str, **options) -> Ref:
        """A dataset loaded on the student side by ``dlgrade.data.load(name, **options)``."""
        return self._request("dataset", name=name, options=options)

    def train(self, model: Ref, data: Ref, recipe: dict, *, seed: int = 0,
              timeout: float | None = None) -> dict:
        """Train ``model`` with dlgrade's engine and the grader's recipe (a Recipe dict).

        The returned metrics come from the student's process: use them for
        feedback only, never for a verdict (use :meth:`predict` for that).
        """
        budget = recipe.get("max_seconds")
        if timeout is None and budget:
            timeout = float(budget) * 1.5 + 30
        return self._request("train", timeout, model=model.id, data=data.id, recipe=dict(recipe), seed=seed)

    def predict(self, model: Ref, X, *, batch_size: int = 1024, timeout: float | None = None) -> np.ndarray:
        """Logits of ``model`` on inputs ``X`` (eval mode, no grad), as a float numpy array."""
        out = self._request("predict", timeout, model=model.id, X=self._enc(X), batch_size=batch_size)
        return expect_array(out, what="the model's output", ndim=2, rows=len(X))

    def network(self, model: Ref, sample, *, seed: int | None = None, weights: bool = True,
                timeout: float | None = None):
        """The student's network rebuilt on this side from torch's classes (a ``netdesc.Network``).

        The student's side only describes ``model`` (traced on ``sample``, a
        small input batch); the layers are built here, initialised under
        ``seed``, and checked against the parameter count and output shape the
        student's side reported. Train and score the result in the grader's
        process: no student code runs in it. Raises StudentError naming what
        cannot be described. ``weights=False``: see :func:`netdesc.rebuild`.
        """
        from dlgrade.harness import netdesc

        text = self._request("network", timeout, ref=model.id, sample=self._enc(sample))
        return netdesc.rebuild(text, seed=seed, weights=weights, input_shape=np.shape(sample))

    def release(self, *refs: Ref) -> None:
        """Free student-side objects that are no longer needed (with the next request: no round trip of
        its own)."""
        self._released.extend(r.id for r in refs)

    # -- notebook text ------------------------------------------------------------
    def answer_text(self, question_id: str) -> str:
        """The student's short-answer text for ``question_id`` ('' when left blank)."""
        return self.markdown_answers.get(question_id, "")

    def cell_errors(self) -> list[CellRun]:
        return [c for c in self.cells if c.status == "error"]

    # -- integrity ----------------------------------------------------------------
    def integrity_findings(self) -> list[str]:
        """Why the question that just ran must be held for review: the notebook changed dlgrade's or
        torch's own objects (see ``harness.integrity``). Empty when the question used none of
        dlgrade's objects on the student's side, or nothing was found. Resets for the next question.
        """
        if not getattr(self, "_used_trusted", False):
            return []
        self._used_trusted = False
        with self._timed("integrity"):
            return self._integrity_findings()

    def _integrity_findings(self) -> list[str]:
        from dlgrade.harness import integrity

        sources = tuple(getattr(self, "sources", None) or ())
        scanned = getattr(self, "_scanned", None)
        if scanned is None or scanned[0] != sources:   # the notebook's code is read once per submission
            scanned = self._scanned = (sources, tuple(integrity.scan_sources(sources)))
        found = list(scanned[1])
        try:
            reported = self._send("integrity", {}, self.timeout)
        except StudentError as exc:
            if exc.kind in ("timeout", "crashed"):   # the process is gone; the next one starts clean
                return found
            return found + [f"dlgrade's integrity check could not run in the notebook's process ({exc.message})"]
        changed = integrity.compare(reported, grader_fingerprints())
        if changed:
            more = f" and {len(changed) - 5} more" if len(changed) > 5 else ""
            found.append("the notebook's process has changed " + ", ".join(changed[:5]) + more)
        return found


TRUSTED_OPS = frozenset({"make", "describe", "state_dict", "load_state", "dataset", "train", "predict", "network"})
"""Requests whose answers rely on dlgrade's and torch's own objects in the student's process."""
_FINGERPRINTS: dict = {}


def grader_fingerprints() -> dict:
    """This process's fingerprints, computed once (the grader's process never runs student code)."""
    if not _FINGERPRINTS:
        from dlgrade.harness.integrity import fingerprints

        _FINGERPRINTS.update(fingerprints())
    return _FINGERPRINTS


def expect_array(value, *, what: str, ndim: int | None = None, rows: int | None = None,
                 shape: tuple | None = None, finite: bool = True, kind: str = "biuf") -> np.ndarray:
    """``value`` as a numpy array of numbers, or :class:`BadOutput` saying what is wrong.

    ``shape`` may use None for any size, e.g. ``(None, 10)``.
    """
    try:
        import torch

        if isinstance(value, torch.Tensor):
            value = value.numpy()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(value, (list, tuple)):
        try:
            value = np.asarray(value)
        except ValueError:
            raise BadOutput(f"{what} should be an array of numbers, got a ragged list") from None
    if not isinstance(value, np.ndarray):
        raise BadOutput(f"{what} should be an array, got {type(value).__name__}")
    if value.dtype.kind not in kind:
        raise BadOutput(f"{what} has dtype {value.dtype}, expected numbers")
    if ndim is not None and value.ndim != ndim:
        raise BadOutput(f"{what} has shape {tuple(value.shape)}, expected {ndim} dimensions")
    if rows is not None and (value.ndim == 0 or value.shape[0] != rows):
        raise BadOutput(f"{what} has shape {tuple(value.shape)}, expected {rows} rows (one per input)")
    if shape is not None and (value.ndim != len(shape) or any(
            s is not None and s != v for s, v in zip(shape, value.shape))):
        want = "(" + ", ".join("N" if s is None else str(s) for s in shape) + ")"
        raise BadOutput(f"{what} has shape {tuple(value.shape)}, expected {want}")
    if finite and value.dtype.kind == "f" and not np.isfinite(value).all():
        raise BadOutput(f"{what} contains NaN or infinite values")
    return value


class LocalSubmission(Submission):
    """Answers requests in this process, against a namespace (the live kernel's globals).

    Values still go through the same JSON encoding as in a sandboxed run, so a
    check passes or fails here exactly as it would in the grader.
    """

    def __init__(self, namespace: dict, *, device: str = "auto", student_side=None, **kwargs):
        """``student_side``: a context manager factory, entered around each request's answer (the part a
        sandboxed run does in the student's process)."""
        super().__init__(**kwargs)
        from dlgrade.harness.ops import Dispatcher

        self._memory = MemoryStore()
        self._dispatcher = Dispatcher(namespace, self._memory, device=device)
        self._student_side = student_side or contextlib.nullcontext

    def _store(self):
        return self._memory

    def _send(self, op: str, fields: dict, timeout: float):
        request = json.loads(json.dumps({"op": op, "fields": fields}))
        with self._student_side():
            response = json.loads(json.dumps(self._dispatcher.handle(request)))
        if not response.get("ok"):
            raise StudentError.from_dict(response.get("error") or {})
        return decode(response.get("value"), self._memory)
