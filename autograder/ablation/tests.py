"""Hidden tests of the ablation exercise: the two loops, build_mlp, the ablation retrained by
the grader, DeepMLP on the two moons, and the written conclusion.

The loops run on objects dlgrade builds in the student's process (a network with batch
normalisation, probes whose predictions are wrong unless evaluated properly, DataLoaders
whose last batch is smaller than the others); every verdict compares what comes back with
the same computation done here, from the same starting weights. Networks built by the
student's code are described by their side and rebuilt from torch's classes, trained with
the grader's recipe and scored here: no student code runs while they train.
"""
from __future__ import annotations


import numpy as np

from dlgrade.harness.models import grader_network, network_logits, train_network
from dlgrade.harness.outputs import final_activation
from dlgrade.harness.short_answer import grade_short_answer
from dlgrade.harness import BadOutput, StudentError, expect_array, question

VARIANTS = {
    "no_hidden": [],
    "base": [512, 256],
    "deeper": [512, 256, 128],
    "wider": [1024, 512],
    "narrower": [256, 128],
}
MOONS = {"4_layers": [128, 256, 128, 64], "5_layers": [128, 256, 256, 128, 64]}


def mlp_params(sizes) -> int:
    """Parameters of a fully connected stack with biases, ``sizes[0] -> ... -> sizes[-1]``."""
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


def number(value, what: str) -> float:
    """A Python float from a number, a 0-d array or a one-element tensor; BadOutput otherwise."""
    if isinstance(value, bool) or value is None:
        raise BadOutput(f"{what} should be a number, got {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    array = expect_array(value, what=what, finite=False)
    if array.size != 1:
        raise BadOutput(f"{what} should be one number, got an array of shape {array.shape}")
    return float(array.reshape(()))


def affine_gap(sub, model, X1, X2) -> float:
    """How far ``model`` is from affine: |f((a+b)/2) - (f(a)+f(b))/2|, relative to the outputs' size.

    Measured on the inputs given and on the same inputs scaled up 8 times (the larger of the two), so
    that a smooth activation (sigmoid, tanh), nearly linear around 0, still shows its curvature.
    """
    scales = (1.0, 8.0)
    blocks = [X * s for s in scales for X in (X1, X2, (X1 + X2) / 2)]
    out = sub.predict(model, np.concatenate(blocks))          # one request: an eval-mode forward is per row
    gaps = []
    for i in range(len(scales)):
        f1, f2, fm = np.split(out[3 * i * len(X1):3 * (i + 1) * len(X1)], 3)
        scale = float(np.abs(f1).mean() + np.abs(f2).mean()) / 2 + 1e-8
        gaps.append(float(np.abs(fm - (f1 + f2) / 2).mean() / scale))
    return max(gaps)


def squashing(sub, builder: str, args, *, sample, seed: int, built=None) -> str:
    """What squashes the logits of the network ``builder(*args)`` builds ('' for nothing, or for a
    network the grader cannot rebuild: that costs the points of the trained network instead).
    ``built``: that network, already built on the student's side under ``seed``."""
    try:
        return final_activation(grader_network(sub, builder, args, sample=sample, seed=seed, built=built,
                                                weights=False).description)
    except StudentError:
        return ""


def looks_like_probabilities(logits: np.ndarray) -> bool:
    return bool((logits >= -1e-6).all() and (logits <= 1 + 1e-6).all()
                and np.allclose(logits.sum(axis=1), 1.0, atol=1e-4))


# -- Q1 ----------------------------------------------------------------------------------------

PROBE_SIZES = [784, 32, 10]
EPOCH_LR = 0.2

# What a train_epoch can do, and what to tell the student when its weights match it.
# name: (training mode, zero_grad before each backward, step after each batch). In this order: q1 always
# computes the first two, both right, and the others only for an epoch that matches neither.
EPOCH_VARIANTS = {
    "correct": (True, True, True),
    "eval mode": (False, True, True),
    "no zero_grad": (True, False, True),
    "eval mode, no zero_grad": (False, False, True),
    "one step after the loop": (True, False, False),
    "eval mode, one step after the loop": (False, False, False),
}
DIAGNOSIS = {
    "no zero_grad": "the gradients were never cleared: each step used the sum of all gradients so far. "
                    "Call optimizer.zero_grad() before loss.backward() in every iteration",
    "eval mode, no zero_grad": "the gradients were never cleared (call optimizer.zero_grad() in every "
                               "iteration) and the model stayed in eval mode (call model.train())",
    "one step after the loop": "optimizer.step() ran once, after the loop: take one step per batch, "
                               "inside the loop",
    "eval mode, one step after the loop": "optimizer.step() ran once, after the loop (take one step per "
                                          "batch) and the model stayed in eval mode (call model.train())",
    "unchanged": "the weights did not change: optimizer.step() never ran, or the gradients were cleared "
                 "between loss.backward() and optimizer.step()",
}


def probe_model():
    """The exercise's probe (from factories.py), built here for :func:`reference_epoch`, which replaces
    its weights; built under a seed so as not to draw from torch's shared generator."""
    from dlgrade.harness import factories
    from dlgrade.train import seeded

    with seeded(0):
        return factories.get("train_probe")(PROBE_SIZES)


def reference_epoch(model, state: dict, batches, *, train_mode: bool, zero_grad: bool, step_each: bool):
    """The weights and per-batch (loss, size) of one SGD epoch from ``state``, computed here on ``model``
    (a :func:`probe_model`, whose weights, buffers and gradients are reset to ``state``'s first)."""
    import torch

    model.load_state_dict(state)
    for p in model.parameters():
        p.grad = None
    model.train(train_mode)
    optimizer = torch.optim.SGD(model.parameters(), lr=EPOCH_LR)
    criterion = torch.nn.CrossEntropyLoss()
    losses = []
    for x, y in batches:
        if zero_grad:
            optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        if step_each:
            optimizer.step()
        losses.append((loss.item(), len(y)))
    if not step_each:
        optimizer.step()
    return {k: v.detach().clone() for k, v in model.state_dict().items()}, losses


def float_vector(state: dict) -> np.ndarray:
    return np.concatenate([np.asarray(v, np.float64).ravel() for k, v in sorted(state.items())
                           if np.asarray(v).dtype.kind == "f"])


@question("q1", points=4, title="train_epoch: one SGD step per batch, in training mode")
def q1(sub, t):
    import torch

    rng = t.ctx.rng("q1")
    X, y = t.ctx.heldout("mnist", 40)
    X, y = torch.as_tensor(X), torch.as_tensor(y)
    batch_size = 16                                     # batches of 16, 16 and 8
    model = sub.make("train_probe", PROBE_SIZES, seed=int(rng.integers(1 << 30)))
    start = {k: torch.as_tensor(v) for k, v in sub.state_dict(model).items()}
    sub.method(model, "eval")                           # as evaluate() leaves it after an epoch
    loader = sub.make("loader", X, y, batch_size)
    optimizer = sub.make("optimizer", "sgd", model, lr=EPOCH_LR)
    criterion = sub.make("loss", "cross_entropy")
    returned = sub.call_with("train_epoch", (model, loader, optimizer, criterion), timeout=60, trains=True)
    after = {k: torch.as_tensor(v) for k, v in sub.state_dict(model).items()}

    batches = [(X[i:i + batch_size], y[i:i + batch_size]) for i in range(0, len(y), batch_size)]
    probe, outcomes, distance = probe_model(), {}, {}
    v_start, v_after = float_vector(start), float_vector(after)
    for name, (m, z, s) in EPOCH_VARIANTS.items():      # "correct" first: its change is the unit of distance
        outcomes[name] = reference_epoch(probe, start, batches, train_mode=m, zero_grad=z, step_each=s)
        if name == "correct":
            moved = np.linalg.norm(float_vector(outcomes[name][0]) - v_start)
        distance[name] = np.linalg.norm(v_after - float_vector(outcomes[name][0])) / moved
        if name == "eval mode" and min(distance.values()) < 0.01:
            break                                       # a right epoch: the other variants only name mistakes
    outcomes["unchanged"] = (start, [])
    distance["unchanged"] = np.linalg.norm(v_after - v_start) / moved
    nearest = min(distance, key=distance.get)
    matched = nearest if distance[nearest] < 0.01 else None

    if matched in ("correct", "eval mode"):
        detail, hint = "", ""
    elif matched is not None:
        detail, hint = f"your weights match an epoch where {DIAGNOSIS[matched]}", DIAGNOSIS[matched]
    else:
        detail = (f"the weights match no expected epoch (closest: '{nearest}', off by "
                  f"{distance[nearest]:.0%} of one epoch's change)")
        hint = ("iterate over the `loader` argument (not a global DataLoader) with the `optimizer` and "
                "`criterion` you were given: zero_grad, forward, loss, backward, step for every batch")
    t.check(matched in ("correct", "eval mode"),
            "the weights after the epoch are those of one SGD step per batch, gradients cleared before "
            "each backward pass", points=2, detail=detail, hint=hint)

    tracked = int(np.asarray(after.get("2.num_batches_tracked", 0)).reshape(-1)[0])  # 0-d arrays arrive as (1,)
    t.check(tracked > 0, "the epoch ran in training mode (the batch-norm layer updated its statistics)",
            points=1, detail=f"the model was in eval mode when train_epoch was called; batches seen in "
                             f"training mode: {tracked} of {len(batches)}",
            hint="call model.train() at the start of train_epoch: evaluate() leaves the model in eval mode")

    losses = outcomes[matched or "correct"][1] or outcomes["correct"][1]
    per_example = sum(l * n for l, n in losses) / sum(n for _, n in losses)
    per_batch = sum(l for l, _ in losses) / len(losses)
    try:
        value = number(returned, "the value train_epoch returns")
    except StudentError:
        value = None
    ok = value is not None and any(abs(value - want) <= 1e-4 * max(1.0, want) for want in (per_example, per_batch))
    t.check(ok, "returns the mean training loss of the epoch", points=1,
            detail=f"returned {returned!r:.60}; expected {per_example:.4f} (mean per example)"
                   + (f" or {per_batch:.4f} (mean per batch)" if abs(per_batch - per_example) > 1e-6 else ""),
            hint="add up loss.item() * len(y) over the batches and divide by the number of examples")


# -- Q2 ----------------------------------------------------------------------------------------

N_EVAL, EVAL_BATCH = 200, 64                             # batches of 64, 64, 64 and 8

# switch_probe's `wrong_when` -> (check, when the probe answers wrongly, advice)
MODE_PROBES = {
    "train": ("evaluates in eval mode", "in training mode",
              "call model.eval() before the loop: the model comes from training in training mode"),
    "grad": ("evaluates without building a graph (torch.no_grad())", "when gradients are on",
             "run the loop under `with torch.no_grad():`"),
}


def eval_labels(logits: np.ndarray, rng, right: np.ndarray) -> np.ndarray:
    """Labels equal to the predicted class where ``right`` is True, elsewhere a class that is
    neither the most nor the least likely one (so a negated model scores 0 on every example)."""
    top, bottom = logits.argmax(1), logits.argmin(1)
    y = top.copy()
    for i in np.flatnonzero(~right):
        y[i] = next(c for c in rng.permutation(logits.shape[1]) if c not in (top[i], bottom[i]))
    return y.astype(np.int64)


def linear_logits(state: dict, X: np.ndarray, prefix: str) -> np.ndarray:
    W = np.asarray(state[f"{prefix}weight"], np.float64)
    b = np.asarray(state[f"{prefix}bias"], np.float64)
    return X.reshape(len(X), -1).astype(np.float64) @ W.T + b


@question("q2", points=4, title="evaluate: accuracy over examples, in eval mode, without gradients")
def q2(sub, t):
    rng = t.ctx.rng("q2")
    X = rng.normal(size=(N_EVAL, 1, 28, 28)).astype(np.float32)

    plain = sub.make("mlp", [784, 10], seed=int(rng.integers(1 << 30)))
    logits = linear_logits(sub.state_dict(plain), X, "1.")
    # Uneven batch accuracies, and a last batch of 8 with 2 right: every shortcut gives another number.
    right = np.concatenate([rng.random(EVAL_BATCH) < share for share in rng.uniform(0.5, 0.95, 3)]
                           + [np.arange(N_EVAL - 3 * EVAL_BATCH) < 2])
    y = eval_labels(logits, rng, right)
    n_batches = -(-N_EVAL // EVAL_BATCH)
    want = right.mean()
    shortcuts = {
        "divides by the number of batches": right.sum() / n_batches,
        "divides by the number of batches times the batch size": right.sum() / (n_batches * EVAL_BATCH),
        "averages the per-batch accuracies": np.mean([right[i:i + EVAL_BATCH].mean()
                                                      for i in range(0, N_EVAL, EVAL_BATCH)]),
    }
    got = number(sub.call("evaluate", plain, sub.make("loader", X, y, EVAL_BATCH)), "evaluate's result")
    hint = "count correct predictions and examples over all batches and divide once, at the end"
    for what, value in shortcuts.items():
        if abs(got - value) < 1e-6:
            hint = f"your evaluate {what}, but the last batch is smaller than the others: {hint}"
            break
    if abs(got - 100 * want) < 1e-3:
        hint = "return a fraction between 0 and 1, not a percentage"
    t.check(abs(got - want) < 1e-6, "the accuracy counts examples (200 of them; the last batch holds 8)",
            points=2, detail=f"got {got:.4f}, expected {want:.4f}", hint=hint)

    for wrong_when, (message, when, advice) in MODE_PROBES.items():
        probe = sub.make("switch_probe", 784, 10, wrong_when, seed=int(rng.integers(1 << 30)))
        y_top = linear_logits(sub.state_dict(probe), X, "fc.").argmax(1)
        sub.method(probe, "train")                           # as train_epoch leaves it
        value = number(sub.call("evaluate", probe, sub.make("loader", X, y_top, EVAL_BATCH)),
                       "evaluate's result")
        sub.release(probe)
        t.check(value > 0, message, points=1, detail=f"a model that answers wrongly {when} scored {value:.3f}",
                hint=advice)


# -- Q3 ----------------------------------------------------------------------------------------

@question("q3", points=5, title="build_mlp builds Flatten, Linear+ReLU per hidden layer, Linear logits")
def q3(sub, t):
    rng = t.ctx.rng("q3")
    seed = int(rng.integers(1 << 30))
    digits, _ = t.ctx.heldout("mnist", 64)

    base = sub.call_with("build_mlp", ([512, 256],), seed=seed)
    info = sub.describe(base)
    if not t.check("params" in info, "build_mlp returns an nn.Module", points=0,
                   detail=f"got {info.get('type')}", hint="return nn.Sequential(...)"):
        return
    t.check(info["params"] == 535_818, "build_mlp([512, 256]) is the lesson's 784-512-256-10 network "
            "(535,818 parameters)", points=1, detail=f"{info['params']:,} parameters",
            hint="Linear(784, 512), ReLU, Linear(512, 256), ReLU, Linear(256, 10)")

    linear = sub.call_with("build_mlp", ([],), seed=seed)
    out = sub.predict(linear, digits)
    t.check(sub.describe(linear)["params"] == 7_850 and out.shape == (64, 10),
            "build_mlp([]) is a single Linear(784, 10) (7,850 parameters) mapping digits to 10 logits",
            points=1, detail=f"{sub.describe(linear)['params']:,} parameters, output shape {out.shape}",
            hint="with no hidden sizes the loop adds nothing: only the last Linear(in_features, n_classes)")

    cases = [([96, 48], 784, 10), ([64, 32, 16], 784, 10),
             ([int(rng.integers(20, 60)), int(rng.integers(5, 20))], int(rng.integers(30, 90)),
              int(rng.integers(3, 7)))]
    wrong = []
    for hidden, n_in, n_out in cases:
        call = f"build_mlp({hidden}, in_features={n_in}, n_classes={n_out})"
        try:
            model = sub.call_with("build_mlp", (hidden,), {"in_features": n_in, "n_classes": n_out}, seed=seed)
            got = sub.describe(model).get("params")
            shape = sub.predict(model, rng.normal(size=(3, n_in)).astype(np.float32)).shape
            sub.release(model)
        except StudentError as exc:
            wrong.append(f"{call}: {exc.message}")
            continue
        if got != mlp_params([n_in, *hidden, n_out]) or shape != (3, n_out):
            wrong.append(f"{call}: {got} parameters, output {shape}, expected "
                         f"{mlp_params([n_in, *hidden, n_out]):,} and (3, {n_out})")
    t.check(not wrong, "other hidden sizes, input sizes and class counts give the right layers", points=1,
            detail="; ".join(wrong), hint="use hidden_sizes, in_features and n_classes; don't hard-code 784 or 10")

    logits = sub.predict(base, digits)
    # Read from the forward pass as well as from the values: after a sigmoid or a ReLU the rows do
    # not sum to 1, and a softmax over the wrong axis makes the columns sum to 1 instead.
    squashed = squashing(sub, "build_mlp", ([512, 256],), sample=digits[:4], seed=seed, built=base)
    probabilities = looks_like_probabilities(logits)
    t.check(not probabilities and not squashed, "outputs logits: nothing after the last Linear layer", points=1,
            detail="every output row is non-negative and sums to 1" if probabilities else
            f"a {squashed} follows the last Linear layer" if squashed else "",
            hint="remove the final activation: nn.CrossEntropyLoss applies log-softmax to logits itself")

    X1, X2 = (rng.normal(size=(32, 1, 28, 28)).astype(np.float32) for _ in range(2))
    gap = affine_gap(sub, base, X1, X2)
    t.check(gap > 1e-3, "has a nonlinearity between the Linear layers", points=1,
            detail="" if gap > 1e-3 else f"its outputs change linearly with its inputs (gap {gap:.1e}, also on "
                                         "inputs 8 times larger): the layers act as one Linear layer",
            hint="put nn.ReLU() after every hidden Linear layer")


# -- Q4 ----------------------------------------------------------------------------------------

def read_table(sub, name: str, keys) -> tuple[dict | None, str]:
    """The student's table of accuracies as fractions, or None and why not."""
    if not sub.has(name):
        errors = " ".join(c.message for c in sub.cell_errors())
        why = f"`{name}` is not defined"
        if "measured" in errors or "NameError" in errors:
            why += (" (the cell that defines it failed: training cells are skipped when grading, "
                    "so type the numbers in rather than refer to variables they create)")
        return None, why
    table = sub.get(name)
    if not isinstance(table, dict):
        return None, f"`{name}` should be a dict, got {type(table).__name__}"
    missing = [k for k in keys if k not in table]
    if missing:
        return None, f"`{name}` lacks {', '.join(missing)}"
    out = {}
    for k in keys:
        v = table[k]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v):
            return None, f"{name}[{k!r}] should be a number, got {v!r:.40}"
        out[k] = float(v)
    return out, ""


def as_fractions(table: dict) -> tuple[dict, str]:
    """Accuracies as fractions; a table written in percent is read as such (and said so)."""
    if all(1 < v <= 100 for v in table.values()):
        return {k: v / 100 for k, v in table.items()}, " (read as percentages)"
    return table, ""


@question("q4", points=8, title="The ablation: each variant trained by the grader, and your table")
def q4(sub, t):
    names = list(VARIANTS)
    table, why = read_table(sub, "ablation_results", names)
    t.check(table is not None, "ablation_results holds a number for every variant", points=1, detail=why,
            hint="ablation_results = {'no_hidden': 0.92, 'base': 0.96, ...} with the accuracies you measured")
    note = ""
    if table is not None:
        table, note = as_fractions(table)
        lowest = min(table, key=table.get)
        tied = [k for k, v in table.items() if v == table[lowest]]
        t.check(lowest == "no_hidden" and len(tied) == 1,
                "in your table the network without a hidden layer is the least accurate", points=1,
                detail=(f"{' and '.join(tied)} tie for the lowest accuracy ({table[lowest]:.3f}){note}" if len(tied) > 1
                        else f"the lowest in your table is {lowest} ({table[lowest]:.3f}), not no_hidden{note}"
                        if lowest != "no_hidden" else ""),
                hint="a model without a hidden layer is linear; if another variant came out lower, check "
                     "your training loop and the accuracies you copied")

    X, y = t.ctx.heldout("mnist", int(t.ctx.param("heldout", 1000)))
    base_seed = 1000 * t.ctx.train_seed
    grader = {}
    for i, (name, sizes) in enumerate(VARIANTS.items()):
        title = f"the '{name}' variant {sizes} reaches the reference accuracy when the grader trains it"
        try:
            # Described on the student's side, rebuilt from torch's classes, trained and scored here.
            net = grader_network(sub, "build_mlp", (sizes,), sample=X[:4], seed=base_seed + i)
            n_params, want = net.params, mlp_params([784, *sizes, 10])
            if n_params != want:
                t.check(False, title, points=1, detail=f"build_mlp({sizes}) has {n_params} parameters, "
                        f"expected {want:,}: it is not this variant", hint="build the layers from hidden_sizes")
                continue
            fit = train_network(net, t.ctx, "mnist", "mlp", seed=base_seed + i)
            grader[name] = float((network_logits(net, t.ctx, X).argmax(axis=1) == y).mean())
        except StudentError as exc:
            if exc.kind in ("missing", "not_implemented"):
                t.check(False, "build_mlp builds the variants for the grader to train", points=len(VARIANTS) - i,
                        detail=exc.message)
                break
            t.check(False, f"the '{name}' variant {sizes} trains with the grader's recipe", points=1,
                    detail=exc.message)
            continue
        stopped = fit.get("stopped") if isinstance(fit, dict) else None
        t.at_least(f"{name}_accuracy", grader[name], title, points=1,
                   hint=("training diverged: " if stopped == "diverged" else "")
                   + "build_mlp should end with a Linear layer (logits) and put ReLU between Linear layers")

    if table is not None and grader:
        tolerance = float(t.ctx.param("table_tolerance", 0.10))
        off = [f"{k}: yours {table[k]:.3f}, grader's {g:.3f}" for k, g in grader.items()
               if abs(table[k] - g) > tolerance]
        t.check(not off, f"your table agrees with the grader's runs within {tolerance:.0%} points", points=1,
                detail="; ".join(off) + note,
                hint="copy the test accuracies printed by the training cell, as fractions; if they are far "
                     "off, check train_epoch and evaluate")


# -- Q5 ----------------------------------------------------------------------------------------

@question("q5", points=5, title="DeepMLP on the two moons: four and five hidden layers")
def q5(sub, t):
    rng = t.ctx.rng("q5")
    seed = int(rng.integers(1 << 30))
    params, module_list, models = {}, False, {}
    for name, sizes in MOONS.items():
        models[name] = sub.call_with("DeepMLP", (sizes,), seed=seed)
        info = sub.describe(models[name])
        params[name] = info.get("params")
        module_list = module_list or any(m.get("type") == "ModuleList" for m in info.get("modules", []))
    sub.release(models["5_layers"])
    want = {name: mlp_params([2, *sizes, 2]) for name, sizes in MOONS.items()}
    hint = "keep the hidden layers in an nn.ModuleList: a plain list hides them from .parameters()"
    if module_list:
        hint = ("the hidden layers are in an nn.ModuleList, so the sizes are off: one nn.Linear per hidden "
                "size, in_features into the first, each into the next, the last into n_classes")
    elif params["4_layers"] is not None and params["4_layers"] < want["4_layers"]:
        hint = (f"only {params['4_layers']:,} of {want['4_layers']:,} parameters are registered: "
                "keep the hidden layers in an nn.ModuleList, not a Python list")
    t.check(params == want, "DeepMLP(MOONS_4) has 74,690 parameters and DeepMLP(MOONS_5) 65,792 more",
            points=1, detail=f"got {params}", hint=hint)

    X, y = t.ctx.heldout("moons")
    model = models["4_layers"]
    out = sub.predict(model, X)
    gap = affine_gap(sub, model, X, rng.normal(size=X.shape).astype(np.float32))
    squashed = "" if out.shape != (len(X), 2) else squashing(sub, "DeepMLP", (MOONS["4_layers"],), sample=X[:4],
                                                             seed=seed, built=model)
    sub.release(model)
    t.check(out.shape == (len(X), 2) and not looks_like_probabilities(out) and not squashed and gap > 1e-3,
            "maps (N, 2) points to (N, 2) logits through ReLUs", points=1,
            detail=f"output shape {out.shape}" + (", rows look like probabilities" if looks_like_probabilities(out)
                                                  else f", a {squashed} follows the last layer" if squashed
                                                  else "") + (", its outputs change linearly with its inputs"
                                                              if gap <= 1e-3 else ""),
            hint="apply torch.relu after each hidden layer and return self.out(x) with nothing after it")

    grader = {}
    for i, (name, sizes) in enumerate(MOONS.items()):
        seed = 1000 * t.ctx.train_seed + i
        net = grader_network(sub, "DeepMLP", (sizes,), sample=X[:4], seed=seed)    # rebuilt and trained here
        train_network(net, t.ctx, "moons", "moons", seed=seed)
        grader[name] = float((network_logits(net, t.ctx, X).argmax(axis=1) == y).mean())
        t.at_least(f"moons_{name}_accuracy", grader[name], f"DeepMLP with {len(sizes)} hidden layers reaches "
                   "the reference accuracy when the grader trains it", points=1)

    problems = []
    results = sub.get("moons_results") if sub.has("moons_results") else None
    if not isinstance(results, dict):
        problems.append("`moons_results` is not defined as a dict" if results is None else
                        f"`moons_results` should be a dict, got {type(results).__name__}")
    else:
        tolerance = float(t.ctx.param("moons_tolerance", 0.05))
        for name in MOONS:
            entry = results.get(name)
            acc = entry.get("accuracy") if isinstance(entry, dict) else None
            sec = entry.get("seconds") if isinstance(entry, dict) else None
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (acc, sec)):
                problems.append(f"moons_results[{name!r}] needs numbers 'accuracy' and 'seconds'")
                continue
            if 1 < acc <= 100:
                acc = acc / 100
            if abs(acc - grader[name]) > tolerance:
                problems.append(f"{name}: your accuracy {acc:.3f}, the grader's {grader[name]:.3f}")
            if not sec > 0:
                problems.append(f"{name}: training time {sec} should be a positive number of seconds")
    t.check(not problems, "moons_results reports accuracies close to the grader's and positive times",
            points=1, detail="; ".join(problems),
            hint="moons_results = {'4_layers': {'accuracy': 0.97, 'seconds': 2.1}, '5_layers': {...}}, "
                 "typed in from the training cell's output")


# -- Q6 ----------------------------------------------------------------------------------------

Q6_PROMPT = ("What does the ablation tell you about this network? Which differences between the variants "
             "are larger than the seed-to-seed noise, and which are not? What did the fifth hidden layer "
             "buy on the moons, and what did it cost? Quote your numbers.")


@question("q6", points=3, title="Short answer: what the ablation shows, and what is noise")
def q6(sub, t):
    grade_short_answer(sub, t, "q6", points=3, prompt=Q6_PROMPT)
