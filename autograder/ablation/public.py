"""Self-checks of the ablation exercise: small fixed cases, no training (the grader's tests use others)."""
from __future__ import annotations

import numpy as np

from dlgrade.harness import question

VARIANTS = ("no_hidden", "base", "deeper", "wider", "narrower")


def _number(value):
    try:
        array = np.asarray(value.numpy() if hasattr(value, "numpy") else value, dtype=float)
    except (TypeError, ValueError):
        return None
    return float(array.reshape(())) if array.size == 1 else None


def _one_epoch(state, X, y, batch_size, *, zero_grad=True, train_mode=True, losses=None):
    """The weights after one SGD epoch from ``state``, computed here; appends (loss, batch size) to ``losses``."""
    import torch

    from dlgrade.harness import factories

    model = factories.get("train_probe")([6, 4, 3])   # the exercise's own, from factories.py
    model.load_state_dict(state)
    model.train(train_mode)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    for i in range(0, len(y), batch_size):
        if zero_grad:
            optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(X[i:i + batch_size]), y[i:i + batch_size])
        loss.backward()
        optimizer.step()
        if losses is not None:
            losses.append((loss.item(), len(y[i:i + batch_size])))
    return model.state_dict()


def _ends_in_logits(sub, t, builder: str, args: tuple, sample: np.ndarray) -> None:
    """Check that the network ``builder(*args)`` returns has nothing that squashes its outputs after the
    last Linear layer, read from its forward pass as the grader rebuilds it."""
    from dlgrade.harness.errors import StudentError
    from dlgrade.harness.models import grader_network
    from dlgrade.harness.outputs import final_activation

    try:
        net = grader_network(sub, builder, args, sample=sample, seed=0)
    except StudentError as exc:
        if exc.kind in ("missing", "not_implemented"):
            raise
        t.check(False, f"the grader can rebuild {builder}'s network from torch's layers", points=1,
                detail=exc.message[:300], hint="use standard torch.nn layers, kept in nn.Sequential or nn.ModuleList")
        return
    squashed = final_activation(net.description)
    t.check(not squashed, f"{builder} ends with logits: no softmax, sigmoid or ReLU after the last Linear layer",
            points=1, detail=f"a {squashed} follows the last layer" if squashed else "",
            hint="return the last Linear layer's output as it is: nn.CrossEntropyLoss applies log-softmax itself")


@question("q1", points=1, title="train_epoch on a tiny network", public=True)
def q1(sub, t):
    import torch

    gen = torch.Generator().manual_seed(0)
    X, y = torch.randn(10, 6, generator=gen), torch.randint(0, 3, (10,), generator=gen)
    model = sub.make("train_probe", [6, 4, 3], seed=0)
    start = {k: torch.as_tensor(v) for k, v in sub.state_dict(model).items()}
    sub.method(model, "eval")
    loss = sub.call("train_epoch", model, sub.make("loader", X, y, 4),
                    sub.make("optimizer", "sgd", model, lr=0.5), sub.make("loss", "cross_entropy"))
    after = {k: torch.as_tensor(v) for k, v in sub.state_dict(model).items()}

    def same(state):
        return all(torch.allclose(after[k].float(), state[k].float(), rtol=1e-4, atol=1e-6) for k in state)

    if same(start):
        t.check(False, "the weights change", points=1, hint="call optimizer.step() after loss.backward()")
        return
    # The epoch computed here, correctly and with the usual slips: (weights, (loss, batch size) per batch).
    epochs = {}
    for slip, options in (("", {}), ("the gradients are never cleared: call optimizer.zero_grad() before "
                                     "loss.backward()", {"zero_grad": False}),
                          ("the model stayed in eval mode: call model.train() at the start", {"train_mode": False})):
        losses: list = []
        epochs[slip] = (_one_epoch(start, X, y, 4, losses=losses, **options), losses)
    matched = next((slip for slip, (state, _) in epochs.items() if same(state)), None)
    t.check(matched == "", "10 examples in batches of 4, 4 and 2 give the weights of three SGD steps in training mode",
            points=1, hint=matched or "zero_grad, forward, loss, backward, step: once per batch")
    losses = epochs[matched or ""][1]
    value = _number(loss)
    per_example = sum(v * n for v, n in losses) / sum(n for _, n in losses)
    per_batch = sum(v for v, _ in losses) / len(losses)
    t.check(value is not None and min(abs(value - per_example), abs(value - per_batch)) <= 1e-4 * max(1, value),
            "returns the mean training loss of the epoch", points=1,
            detail=f"returned {loss!r:.60}; the mean per example here is {per_example:.4f}",
            hint="add up loss.item() * len(y) over the batches and divide by the number of examples")


@question("q2", points=1, title="evaluate on a known model", public=True)
def q2(sub, t):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(10, 5)).astype(np.float32)
    model = sub.make("mlp", [5, 3], seed=0)
    state = sub.state_dict(model)
    logits = X @ np.asarray(state["1.weight"]).T + np.asarray(state["1.bias"])
    y = logits.argmax(1)
    y[:3] = (y[:3] + 1) % 3                               # 7 of 10 right; batches of 4, 4 and 2
    got = _number(sub.call("evaluate", model, sub.make("loader", X, y, 4)))
    t.check(got is not None and abs(got - 0.7) < 1e-6, "7 right out of 10 (batches of 4, 4, 2) gives 0.7",
            points=1, detail=f"got {got}", hint="divide the number of correct predictions by the number of "
                                                 "examples, once, after the loop")
    probe = sub.make("mode_probe", 5, 3, seed=0)
    state = sub.state_dict(probe)
    y_probe = (X @ np.asarray(state["fc.weight"]).T + np.asarray(state["fc.bias"])).argmax(1)
    sub.method(probe, "train")
    got = _number(sub.call("evaluate", probe, sub.make("loader", X, y_probe, 4)))
    t.check(got is not None and abs(got - 1.0) < 1e-6,
            "a model that is right only in eval mode without gradients scores 1.0", points=1,
            detail=f"got {got}", hint="call model.eval() and run the loop under torch.no_grad()")


@question("q3", points=1, title="build_mlp: layer sizes and parameter counts", public=True)
def q3(sub, t):
    model = sub.call_with("build_mlp", ([512, 256],), seed=0)
    info = sub.describe(model)
    t.check(info.get("params") == 535_818, "build_mlp([512, 256]) has 535,818 parameters", points=1,
            detail=f"got {info.get('params')}")
    out = sub.predict(model, np.zeros((2, 1, 28, 28), np.float32))
    t.check(out.shape == (2, 10), "two (1, 28, 28) images give a (2, 10) output", points=1,
            detail=f"shape {out.shape}", hint="start with nn.Flatten()")
    single = sub.describe(sub.call_with("build_mlp", ([],), seed=0))
    t.check(single.get("params") == 7_850, "build_mlp([]) has 7,850 parameters (one Linear(784, 10))", points=1,
            detail=f"got {single.get('params')}")
    kinds = {m["type"] for m in info.get("modules", [])}
    t.check("Softmax" not in kinds and "ReLU" in kinds, "ReLU between the layers and no softmax at the end",
            points=1, detail=f"modules: {sorted(kinds)}",
            hint="nn.CrossEntropyLoss expects logits: no nn.Softmax in the network")
    _ends_in_logits(sub, t, "build_mlp", ([512, 256],), np.zeros((2, 1, 28, 28), np.float32))
    other = sub.call_with("build_mlp", ([8],), {"in_features": 20, "n_classes": 3}, seed=0)
    got = sub.describe(other).get("params")
    shape = sub.predict(other, np.zeros((2, 20), np.float32)).shape
    t.check(got == 20 * 8 + 8 + 8 * 3 + 3 and shape == (2, 3),
            "build_mlp([8], in_features=20, n_classes=3) has 195 parameters and gives (2, 3) outputs", points=1,
            detail=f"{got} parameters, output {shape}", hint="use in_features and n_classes; don't hard-code 784 or 10")


def _mlp_params(sizes) -> int:
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


VARIANT_SIZES = {"no_hidden": [], "base": [512, 256], "deeper": [512, 256, 128], "wider": [1024, 512],
                 "narrower": [256, 128]}


@question("q4", points=1, title="The ablation table", public=True)
def q4(sub, t):
    wrong = []
    for name, sizes in VARIANT_SIZES.items():
        info = sub.describe(sub.call_with("build_mlp", (sizes,), seed=0))
        got = info.get("params")
        if got != _mlp_params([784, *sizes, 10]):
            wrong.append(f"{name} {sizes}: {got}, expected {_mlp_params([784, *sizes, 10]):,}")
        elif info.get("modules") and info["modules"][-1].get("type") != "Linear":
            wrong.append(f"{name} {sizes} ends with {info['modules'][-1].get('type')}, not a Linear layer (logits)")
    t.check(not wrong, "build_mlp builds each of the five variants with the right parameter count", points=1,
            detail="; ".join(wrong), hint="one Linear per hidden size, from 784 inputs to 10 outputs")
    if not t.check(sub.has("ablation_results"), "ablation_results exists", points=1,
                   hint="type the accuracies printed by the training cell into the dict"):
        return
    table = sub.get("ablation_results")
    ok = isinstance(table, dict) and all(
        isinstance(table.get(k), (int, float)) and not isinstance(table.get(k), bool) for k in VARIANTS)
    if not t.check(ok, f"ablation_results has a number for each of {', '.join(VARIANTS)}", points=1):
        return
    values = {k: float(table[k]) for k in VARIANTS}
    if not t.check(all(0 <= v <= 1 for v in values.values()), "the accuracies are fractions between 0 and 1",
                   points=1, detail=str(values), hint="0.965, not 96.5"):
        return
    t.check(all(v >= 0.5 for v in values.values()),
            "every variant learned: all accuracies are far above chance (0.1), at least 0.5", points=1,
            detail=str(values), hint="near 0.1 means the network did not learn: check train_epoch, evaluate and "
                                     "the learning rate, then run the training cell again")
    lowest = min(values.values())
    tied = [k for k, v in values.items() if v == lowest]
    t.check(tied == ["no_hidden"], "in your table the network without a hidden layer is the least accurate",
            points=1, detail=f"lowest: {', '.join(tied)} ({lowest:.3f})",
            hint="a model without a hidden layer is linear; if another variant came out lower or tied, check "
                 "your training loop and the numbers you copied")


@question("q5", points=1, title="DeepMLP and the moons results", public=True)
def q5(sub, t):
    params = {}
    for name, sizes in (("MOONS_4", [128, 256, 128, 64]), ("MOONS_5", [128, 256, 256, 128, 64])):
        params[name] = sub.describe(sub.call_with("DeepMLP", (sizes,), seed=0)).get("params")
    t.check(params == {"MOONS_4": 74_690, "MOONS_5": 140_482},
            "DeepMLP(MOONS_4) has 74,690 parameters and DeepMLP(MOONS_5) 140,482", points=1,
            detail=f"got {params}",
            hint="keep the hidden layers in an nn.ModuleList so that PyTorch sees their parameters")
    model = sub.call_with("DeepMLP", ([128, 256, 128, 64],), seed=0)
    out = sub.predict(model, np.zeros((3, 2), np.float32))
    t.check(out.shape == (3, 2), "three points give a (3, 2) output", points=1, detail=f"shape {out.shape}")
    a, b = (np.random.default_rng(seed).normal(scale=3.0, size=(16, 2)).astype(np.float32) for seed in (1, 2))
    fa, fb, fm = (sub.predict(model, X) for X in (a, b, (a + b) / 2))
    gap = float(np.abs(fm - (fa + fb) / 2).mean() / (np.abs(fa).mean() + np.abs(fb).mean() + 1e-8))
    t.check(gap > 1e-3, "a ReLU acts after each hidden layer (the outputs are not a linear function of the points)",
            points=1, detail=f"gap from linear {gap:.1e}", hint="x = torch.relu(layer(x)) for each hidden layer")
    _ends_in_logits(sub, t, "DeepMLP", ([128, 256, 128, 64],), np.zeros((3, 2), np.float32))
    if not t.check(sub.has("moons_results"), "moons_results exists", points=1,
                   hint="after the training cell, type in the accuracies and times it printed"):
        return
    results = sub.get("moons_results")
    ok = isinstance(results, dict) and all(
        isinstance(results.get(k), dict) and {"accuracy", "seconds"} <= set(results[k])
        for k in ("4_layers", "5_layers"))
    if not t.check(ok, "moons_results has 'accuracy' and 'seconds' for '4_layers' and '5_layers'", points=1):
        return
    accs = [results[k]["accuracy"] for k in ("4_layers", "5_layers")]
    secs = [results[k]["seconds"] for k in ("4_layers", "5_layers")]
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in accs + secs)
    t.check(numbers and all(0.8 <= a <= 1 for a in accs),
            "the accuracies are fractions of at least 0.8 (both networks separate the moons)", points=1,
            detail=f"got {accs}", hint="a fraction such as 0.97; far lower means the networks did not train")
    t.check(numbers and all(s > 0 for s in secs), "the training times are positive numbers of seconds", points=1,
            detail=f"got {secs}")
