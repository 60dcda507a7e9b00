"""Models a student's code builds: checks before training, and rebuilt networks the grader trains and scores."""
from __future__ import annotations

import contextlib
import json
import time

import numpy as np

from dlgrade.harness.errors import StudentError


def require_untrained(sub, model, X: np.ndarray, y: np.ndarray, *, what: str, limit: float = 0.5) -> None:
    """Raise :class:`StudentError` when a model that was just built already classifies ``(X, y)``.

    The grader trains the models it scores; a builder that returns a model
    trained beforehand (on the test images, say) would otherwise pass on that
    training rather than the grader's. A freshly initialised classifier sits
    near chance, far below ``limit``.
    """
    accuracy = float((sub.predict(model, X).argmax(axis=1) == y).mean())
    if accuracy > limit:
        raise StudentError("bad_output", f"{what} returned a model that already reaches {accuracy:.0%} on the "
                           "grader's test images before any training: build the model untrained, the grader "
                           "trains it")


def grader_network(sub, builder: str, args=(), kwargs=None, *, sample, seed: int, built=None,
                   weights: bool = True):
    """The network ``builder(*args, **kwargs)`` returns, rebuilt on the grader's side (a ``netdesc.Network``).

    The student's builder runs once (under ``seed``) on the student's side,
    which only describes what it returned; the layers are built here from
    torch's classes, initialised under ``seed``. Use :meth:`Network.fresh` for
    more copies under other seeds. Raises StudentError naming any part of the
    model that cannot be described.

    The same builder with the same arguments is described once per submission: a second call
    (another seed, another question) rebuilds the first description under its own seed.

    ``built``: what this builder call already returned on the student's side (the Ref of
    ``sub.call_with(builder, args, kwargs, seed=...)``), described instead of calling the builder
    again; it stays the caller's. ``weights=False``: for a look at the network only (its
    description, whether it rebuilds): the layers are built without weights, which is instant,
    and cannot be trained or run.
    """
    from dlgrade.harness import netdesc

    known = getattr(sub, "networks", None)
    try:                  # plain arguments only (sizes, names): an array's repr would not tell two apart
        key = json.dumps([builder, args, kwargs or {}, list(np.shape(sample))], sort_keys=True)
    except (TypeError, ValueError):
        known = None
    if isinstance(known, dict) and key in known:
        return netdesc.rebuild(known[key], seed=seed, weights=weights)
    model = built if built is not None else sub.call_with(builder, args, kwargs, seed=seed)
    try:
        net = sub.network(model, sample, seed=seed, weights=weights)
    finally:
        if built is None:
            sub.release(model)
    if isinstance(known, dict):
        known[key] = net.text
    return net


def train_network(net, ctx, data: str, recipe: str, *, seed: int) -> dict:
    """Train a rebuilt network in this process with the profile's recipe on the grader's copy of ``data``.

    Returns the fit summary (``seconds``, ``stopped``, ``steps``, ``history``);
    the time spent is added to ``ctx.train_seconds``. No student code runs
    here: the network holds torch's classes only.

    What a network earns must not depend on the machine: a network above the
    recipe's ``max_flops`` is refused (StudentError, the same on any machine),
    and a training stopped by the ``max_seconds`` clock is the grader's problem
    (``grader_error``: flagged for an instructor), never a lower score.
    """
    from dlgrade.errors import DlgradeError
    from dlgrade.harness.factories import fit_summary
    from dlgrade.train import Recipe, fit

    rules = ctx.recipe(recipe)
    if not isinstance(rules, Recipe):
        rules = Recipe.from_dict(rules, where=f"recipe {recipe}")
    dataset = ctx.data(data)
    try:
        with grader_training(ctx), _fixed_threads(ctx):
            _within_compute(net, dataset, rules, data)
            result = fit(net.module, dataset, rules, seed=seed, device=_device(ctx))
    except (DlgradeError, RuntimeError, ValueError) as exc:
        raise StudentError("bad_output", f"the grader could not train your network on {data}: "
                           f"{str(exc)[:300]}") from None
    if result.stopped == "budget":
        raise StudentError("grader_error", f"the grader's training of your network on {data} ran past its "
                           f"{rules.max_seconds:g} s safety limit on this machine; an instructor will regrade it "
                           "(raise max_seconds in the exercise's profile, or grade on a less loaded machine)")
    return fit_summary(result)


@contextlib.contextmanager
def grader_training(ctx):
    """Count the block's seconds as training on the grader's side (``ctx.train_seconds``, reported as
    ``timings.train``): a network trained here, or a reference model the hidden tests fit to compare the
    student's with (forest's ``train_forest`` check)."""
    start = time.perf_counter()
    try:
        yield
    finally:
        ctx.train_seconds = getattr(ctx, "train_seconds", 0.0) + time.perf_counter() - start


def _within_compute(net, dataset, rules, data: str) -> None:
    limit = rules.max_flops
    if not limit:
        return
    from dlgrade.harness.netdesc import flops_text
    from dlgrade.train.tensors import split_of

    X, _ = split_of(dataset, "train")
    flops = net.flops(X[0].shape)
    if flops > limit:
        raise StudentError("bad_output", f"your network needs {flops_text(flops)} per {data} example; the "
                           f"grader trains networks of at most {flops_text(limit)} per example",
                           detail="use fewer or narrower layers, or pool earlier")


def network_logits(net, ctx, X) -> np.ndarray:
    """Logits of a rebuilt network on ``X`` (eval mode, no grad), computed in this process; the time
    spent is added to ``ctx.score_seconds``."""
    from dlgrade.errors import DlgradeError
    from dlgrade.train import predict

    start = time.perf_counter()
    try:
        with _fixed_threads(ctx):
            return predict(net.module, X, device=_device(ctx), channels_last=_no_view(net)).numpy()
    except (DlgradeError, RuntimeError, ValueError) as exc:
        raise StudentError("bad_output", f"your network does not run on the grader's inputs: "
                           f"{str(exc)[:300]}") from None
    finally:
        ctx.score_seconds = getattr(ctx, "score_seconds", 0.0) + time.perf_counter() - start


def _no_view(net) -> bool:
    """Is ``net`` a rebuilt network whose forward never calls ``view``, so that it can take images
    channels-last (``view`` on a channels-last feature map fails)?"""
    calls = getattr(net, "calls", None)
    return callable(calls) and not calls("view")


@contextlib.contextmanager
def _fixed_threads(ctx):
    """The profile's thread count (``ctx.threads``, see :func:`fix_threads`) while the grader trains or
    scores: a fixed number, so that a network's measurements do not depend on the machine's cores or the workers."""
    fix_threads(getattr(ctx, "threads", None))
    yield


def fix_threads(n: int | None) -> None:
    """Run this process's own numerics (torch, and numpy's BLAS) on ``n`` threads, the profile's
    ``threads``; nothing when ``n`` is None.

    A fixed number, so that what the grader computes does not depend on the machine's cores or the
    workers, and no thread waits for a core that other work holds (on a busy machine, numpy's second
    BLAS thread made a small product 10 times slower). Not restored afterwards: grading threads of one
    batch share this process and all ask for the same number, so none of them can see another's count
    change under it mid-training.
    """
    if not n:
        return
    import torch

    if torch.get_num_threads() != int(n):
        torch.set_num_threads(int(n))
    if _BLAS_THREADS != [int(n)]:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # pragma: no cover - installed with scikit-learn
            return
        threadpool_limits(int(n), user_api="blas")   # kept: not used as a context manager
        _BLAS_THREADS[:] = [int(n)]


_BLAS_THREADS: list[int] = []


def _device(ctx) -> str:
    return str(getattr(ctx, "device", None) or "auto")
