"""Hidden tests of the CNN-versus-MLP exercise.

The student's two networks are described by their side and rebuilt, trained (one recipe)
and scored on secret test images here, from torch's own classes: no student code runs while
they train. The translation test shifts those
images here, with the grader's own shift, so that it does not depend on the student's
``shift_images`` (which is checked separately against the same oracle).
"""
from __future__ import annotations


import numpy as np

from dlgrade.harness.models import grader_network, network_logits, train_network
from dlgrade.harness.outputs import final_activation
from dlgrade.harness.short_answer import grade_short_answer
from dlgrade.harness import BadOutput, StudentError, expect_array, question

CONV_TYPES = {"Conv1d", "Conv2d", "Conv3d", "LazyConv2d"}
LINEARITY_IMAGES = 8    # images in each of the two sets that the nonlinearity check averages


def shift_oracle(images: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """Content moved dx right and dy down; incoming border pixels repeat the nearest edge pixel.
    (Rows, then columns, each only when it moves: one gather over both axes at once is 7 times slower.)"""
    h, w = images.shape[-2:]
    out = images
    if dy:
        out = np.take(out, np.clip(np.arange(h) - dy, 0, h - 1), axis=-2)
    if dx:
        out = np.take(out, np.clip(np.arange(w) - dx, 0, w - 1), axis=-1)
    return images.copy() if out is images else out


def shift_each(images: np.ndarray, pixels: int, rng) -> np.ndarray:
    """Every image moved ``pixels`` left, right, up or down, the direction drawn per image."""
    moves = [(pixels, 0), (-pixels, 0), (0, pixels), (0, -pixels)]
    which = rng.integers(0, 4, len(images))
    out = np.empty_like(images)
    for k, (dx, dy) in enumerate(moves):
        out[which == k] = shift_oracle(images[which == k], dx, dy)
    return out


def looks_like_probabilities(logits: np.ndarray) -> bool:
    return bool((logits >= -1e-6).all() and (logits <= 1 + 1e-6).all()
                and np.allclose(logits.sum(axis=1), 1.0, atol=1e-4))


def module_types(info: dict) -> set:
    return {m["type"] for m in info.get("modules", [])}


def counted(sub, builder: str, sample: np.ndarray) -> dict:
    """describe() of a fresh ``builder()`` network after one forward on ``sample`` (lazy layers get their sizes)."""
    model = sub.call_with(builder, seed=0)
    sub.predict(model, sample)
    return sub.describe(model)


def structure_checks(sub, t, name: str, digits: np.ndarray, rng) -> dict | None:
    """Checks shared by Q1 and Q2: a module, (N, 10) logits, a nonlinearity. Returns describe() or None."""
    model = sub.call_with(name, seed=int(rng.integers(1 << 30)))
    logits = sub.predict(model, digits)   # one forward first: lazy layers take their sizes before counting
    info = sub.describe(model)
    if not t.check("params" in info, f"{name}() returns an nn.Module", points=0,
                   detail=f"got {info.get('type')}"):
        return None
    # Read from the forward pass as well as from the values: after a sigmoid or a ReLU the rows do
    # not sum to 1, and a softmax over the wrong axis makes the columns sum to 1 instead.
    try:
        squashed = final_activation(grader_network(sub, name, sample=digits[:4], seed=0, built=model,
                                                   weights=False).description)
    except StudentError:
        squashed = ""                 # costs the trained network's points in Q3, not these
    probabilities = looks_like_probabilities(logits)
    t.check(logits.shape == (len(digits), 10) and not probabilities and not squashed,
            "maps (N, 3, 32, 32) images to (N, 10) logits (nothing after the last layer)", points=1,
            detail=f"output shape {logits.shape}" + (", every row is non-negative and sums to 1" if probabilities
                                                     else f", a {squashed} follows the last layer" if squashed
                                                     else ""),
            hint="end with a Linear layer with 10 outputs and nothing after it: cross-entropy applies "
                 "log-softmax to the logits itself")
    # Two sets of 8 images, their midpoint, and the same scaled up 8 times (a sigmoid or tanh is nearly
    # linear around 0), in one forward pass; the two sets themselves are already in `logits`. Any
    # nonlinearity shows on 8 images, and the student's CNN runs on 32 of them here, not 64.
    half = min(LINEARITY_IMAGES, len(digits) // 2)
    X1, X2 = digits[:half], digits[half:2 * half]
    out = sub.predict(model, np.concatenate([(X1 + X2) / 2, X1 * 8.0, X2 * 8.0, (X1 + X2) * 4.0]))
    gaps = []
    for f1, f2, fm in ((logits[:half], logits[half:2 * half], out[:half]), np.split(out[half:], 3)):
        scale = float(np.abs(f1).mean() + np.abs(f2).mean()) / 2 + 1e-8
        gaps.append(float(np.abs(fm - (f1 + f2) / 2).mean() / scale))
    gap = max(gaps)
    t.check(gap > 1e-3, "has a nonlinearity between its layers", points=1,
            detail="" if gap > 1e-3 else f"its outputs change linearly with its inputs (gap {gap:.1e}, also on "
                                         "inputs 8 times larger): the layers act as one linear map",
            hint="put nn.ReLU() after every layer but the last")
    sub.release(model)
    return info


# -- Q1, Q2 --------------------------------------------------------------------------------

@question("q1", points=3, title="build_mlp: a fully connected network for 3x32x32 images")
def q1(sub, t):
    rng = t.ctx.rng("q1")
    X, _ = t.ctx.heldout("cifar10", 32)
    info = structure_checks(sub, t, "build_mlp", X, rng)
    if info is None:
        return
    kinds = module_types(info)
    t.check(not kinds & CONV_TYPES and "Linear" in kinds, "is fully connected: Linear layers, no convolutions",
            points=1, detail=f"modules: {sorted(kinds)}",
            hint="the MLP flattens the image and uses nn.Linear layers only; convolutions belong in build_cnn")


@question("q2", points=3, title="build_cnn: convolutions, and fewer parameters than the MLP")
def q2(sub, t):
    rng = t.ctx.rng("q2")
    X, _ = t.ctx.heldout("cifar10", 32)
    info = structure_checks(sub, t, "build_cnn", X, rng)
    if info is None:
        return
    convs = [m for m in info["modules"] if m["type"] in CONV_TYPES]
    mlp_params = counted(sub, "build_mlp", X[:2]).get("params")
    detail = f"{len(convs)} convolution(s), {info['params']:,} parameters"
    if isinstance(mlp_params, int):
        detail += f" against the MLP's {mlp_params:,}"
    t.check(bool(convs) and isinstance(mlp_params, int) and info["params"] < mlp_params,
            "uses convolutions and has fewer parameters than your MLP", points=1, detail=detail,
            hint="small 3x3 filters share their weights across the image; keep the final Linear layer small "
                 "by pooling the feature maps down first")


# -- Q3 ------------------------------------------------------------------------------------

@question("q3", points=7, title="Both networks trained by the grader; the CNN wins and shifts well")
def q3(sub, t):
    X, y = t.ctx.heldout("cifar10", int(t.ctx.param("heldout", 1000)))
    X_shifted = shift_each(X, int(t.ctx.param("shift_pixels", 4)), t.ctx.rng("q3:shift"))
    acc, shifted, notes = {}, {}, {}
    for i, name in enumerate(("mlp", "cnn")):
        seed = 1000 * t.ctx.train_seed + i
        try:
            # Described on the student's side, rebuilt from torch's classes, trained and scored here.
            net = grader_network(sub, f"build_{name}", sample=X[:4], seed=seed)
            fit = train_network(net, t.ctx, "cifar10", "cifar", seed=seed)
            acc[name] = float((network_logits(net, t.ctx, X).argmax(axis=1) == y).mean())
            shifted[name] = float((network_logits(net, t.ctx, X_shifted).argmax(axis=1) == y).mean())
        except StudentError as exc:
            t.check(False, f"build_{name}() trains with the grader's recipe", points=0, detail=exc.message)
            continue
        stopped = fit.get("stopped") if isinstance(fit, dict) else ""
        notes[name] = "training diverged (the loss blew up): " if stopped == "diverged" else ""

    hint_logits = "end with a Linear layer (logits, no softmax) and put ReLU between the layers"
    if "mlp" in acc:
        t.at_least("mlp_accuracy", acc["mlp"], "the MLP reaches the reference MLP's accuracy", points=1,
                   hint=notes["mlp"] + hint_logits)
    if "cnn" in acc:
        t.at_least("cnn_accuracy", acc["cnn"], "the CNN reaches the reference CNN's accuracy", points=2,
                   hint=notes["cnn"] + "three conv-ReLU-pool blocks with 32, 64 and 128 channels are enough; "
                        + hint_logits)
    if len(acc) == 2:
        t.at_least("cnn_minus_mlp", acc["cnn"] - acc["mlp"], "the CNN beats the MLP by the reference margin",
                   points=2, hint=notes["cnn"] + "a CNN that learns little (too few channels, no pooling, "
                                                 "a softmax at the end) does not pull ahead")
        t.at_least("cnn_shifted_accuracy", shifted["cnn"], "the CNN stays accurate on test images shifted "
                   "by a few pixels", points=1,
                   hint="pooling between the convolutions makes the CNN tolerate small shifts; a network that "
                        "ends in a large Linear layer over full-size feature maps does not")
        t.at_least("cnn_minus_mlp_shifted", shifted["cnn"] - shifted["mlp"],
                   "on shifted images the CNN is ahead of the MLP by the reference margin", points=1)
        t.measure("mlp_shifted_accuracy", shifted["mlp"])


# -- Q4 ------------------------------------------------------------------------------------

def shift_mistake(got: np.ndarray, images: np.ndarray, dx: int, dy: int) -> str:
    """Which common mistake ``got`` matches, as advice; '' when none does."""
    import torch

    rolled = torch.roll(torch.as_tensor(images), shifts=(dy, dx), dims=(-2, -1)).numpy()
    h, w = images.shape[-2:]
    zero = np.zeros_like(images)
    zero[..., max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        images[..., max(-dy, 0):h - max(dy, 0), max(-dx, 0):w - max(dx, 0)]
    candidates = {
        "the content moved the wrong way: output pixel (i, j) is input pixel (i - dy, j - dx)":
            shift_oracle(images, -dx, -dy),
        "dx and dy are swapped: dx moves columns (dimension -1), dy rows (dimension -2)":
            shift_oracle(images, dy, dx),
        "the content wraps around (torch.roll): the border should repeat the edge pixels instead":
            rolled,
        "the border is filled with zeros: it should repeat the edge pixels (mode='replicate')": zero,
    }
    for advice, wrong in candidates.items():
        if wrong.shape == got.shape and np.allclose(got, wrong, atol=1e-6):
            return advice
    return ""


@question("q4", points=2, title="shift_images moves the content and repeats the edges")
def q4(sub, t):
    import torch

    rng = t.ctx.rng("q4")
    images = rng.normal(size=(3, 3, 12, 10)).astype(np.float32)
    dx = int(rng.integers(1, 3))
    cases = [(dx, -int(rng.integers(dx + 1, 5))),          # diagonal, |dy| > |dx|: tells the mistakes apart
             (-int(rng.integers(1, 4)), 0), (0, int(rng.integers(1, 4))), (0, 0)]
    ok, advice = {}, ""
    for dx, dy in cases:
        out = sub.call("shift_images", torch.from_numpy(images), dx, dy)
        got = expect_array(out, what=f"shift_images(images, {dx}, {dy})")
        want = shift_oracle(images, dx, dy)
        ok[(dx, dy)] = got.shape == want.shape and bool(np.allclose(got, want, atol=1e-6))
        if not ok[(dx, dy)] and not advice:
            advice = shift_mistake(got, images, dx, dy) or (
                f"shape {got.shape}, expected {want.shape}" if got.shape != want.shape else "")
    wrong = "; ".join(f"wrong for dx={dx}, dy={dy}" for (dx, dy), good in ok.items() if not good)
    t.check(ok[cases[0]], "moves the content diagonally by (dx, dy) with edge pixels repeated", points=1,
            detail=wrong, hint=advice or "output pixel (i, j) is input pixel (i - dy, j - dx), clamped to the image")
    only_zero = [c for c, good in ok.items() if not good] == [(0, 0)]
    t.check(all(ok.values()), "also for shifts along one axis, and for no shift at all", points=1,
            detail=wrong, hint=advice or ("with dx = dy = 0 return the images unchanged (a slice like "
                                          "[p - dy:-dy] is empty at 0)" if only_zero else
                                          "output pixel (i, j) is input pixel (i - dy, j - dx), clamped to the image"))


# -- Q5 ------------------------------------------------------------------------------------

RESULT_KEYS = ("mlp_accuracy", "cnn_accuracy", "mlp_shifted_accuracy", "cnn_shifted_accuracy",
               "mlp_params", "cnn_params")


@question("q5", points=2, title="Your numbers: parameter counts and what the accuracies say")
def q5(sub, t):
    if not sub.has("cifar_results"):
        errors = " ".join(c.message for c in sub.cell_errors())
        t.check(False, "cifar_results is defined", points=2,
                detail="training cells are skipped when grading: type the numbers in" if "NameError" in errors else "")
        return
    table = sub.get("cifar_results")
    if not isinstance(table, dict) or any(k not in table for k in RESULT_KEYS) or any(
            isinstance(table[k], bool) or not isinstance(table[k], (int, float)) for k in RESULT_KEYS):
        raise BadOutput(f"cifar_results should be a dict with numbers for {', '.join(RESULT_KEYS)}")
    sample, _ = t.ctx.heldout("cifar10", 2)
    counts = {name: counted(sub, f"build_{name}", sample).get("params") for name in ("mlp", "cnn")}
    t.check(table["mlp_params"] == counts["mlp"] and table["cnn_params"] == counts["cnn"],
            "the parameter counts are those of the networks build_mlp() and build_cnn() return", points=1,
            detail=f"yours {table['mlp_params']:,} and {table['cnn_params']:,}; the networks have "
                   + " and ".join(f"{c:,}" if isinstance(c, int) else str(c) for c in counts.values()),
            hint="count_parameters(build_mlp()) counts every weight and bias")
    acc = {k: float(table[k]) for k in RESULT_KEYS if k.endswith("accuracy")}
    if all(1 < v <= 100 for v in acc.values()):
        acc = {k: v / 100 for k, v in acc.items()}
    problems, hints = [], []
    if not all(0.05 <= v <= 1 for v in acc.values()):
        problems.append("accuracies should be fractions above chance level (0.1)")
        hints.append("copy the accuracies the training cells printed, as fractions")
    if not acc["cnn_accuracy"] > acc["mlp_accuracy"]:
        problems.append("the CNN should be the more accurate of the two")
    if not acc["cnn_shifted_accuracy"] > acc["mlp_shifted_accuracy"]:
        problems.append("on shifted images too")
    if len(problems) > len(hints):
        hints.append("if your CNN really came out behind the MLP, the design is the problem, not the table: "
                     "give it more filters (Q2) and train it again")
    if acc["cnn_shifted_accuracy"] > acc["cnn_accuracy"] + 0.02 or acc["mlp_shifted_accuracy"] > acc["mlp_accuracy"] + 0.02:
        problems.append("shifted images should not be easier than the originals")
        hints.append("the shifted accuracies come from the cell that moves the images by SHIFT pixels")
    t.check(not problems, "the accuracies are fractions in which the CNN beats the MLP, shifted or not",
            points=1, detail="; ".join(problems) + f" (yours: {acc})",
            hint="; ".join(hints))


# -- Q6 ------------------------------------------------------------------------------------

Q6_PROMPT = ("Why does the CNN beat the MLP with far fewer parameters, and what does the shift test show? "
             "Explain locality, weight sharing and translation equivariance, and what the MLP lacks.")


@question("q6", points=3, title="Short answer: locality, weight sharing, translation equivariance")
def q6(sub, t):
    grade_short_answer(sub, t, "q6", points=3, prompt=Q6_PROMPT)
