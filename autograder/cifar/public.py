"""Self-checks of the CNN-versus-MLP exercise: shapes, layer types and the shift, no training."""
from __future__ import annotations

import numpy as np

from dlgrade.harness import expect_array, question

CONV_TYPES = {"Conv1d", "Conv2d", "Conv3d", "LazyConv2d"}
IMAGES = np.random.default_rng(0).normal(size=(4, 3, 32, 32)).astype(np.float32)


def _counted(sub, builder: str) -> dict:
    """describe() of a fresh ``builder()`` network after one forward (lazy layers get their sizes)."""
    model = sub.call_with(builder, seed=0)
    sub.predict(model, IMAGES[:2])
    return sub.describe(model)


def _network(sub, t, name: str):
    model = sub.call_with(name, seed=0)
    out = sub.predict(model, IMAGES)      # one forward first: lazy layers take their sizes before counting
    info = sub.describe(model)
    if not t.check("params" in info, f"{name}() returns an nn.Module", points=1, detail=f"got {info.get('type')}"):
        return None
    t.check(out.shape == (4, 10), "four (3, 32, 32) images give a (4, 10) output", points=1,
            detail=f"shape {out.shape}")
    kinds = {m["type"] for m in info["modules"]}
    t.check("Softmax" not in kinds and kinds & {"ReLU", "GELU", "LeakyReLU", "ELU", "Tanh", "SiLU"},
            "a nonlinearity between the layers and no softmax at the end", points=1,
            detail=f"modules: {sorted(kinds)}", hint="the loss applies log-softmax to the logits itself")
    net = _rebuilt(sub, t, name)
    if net is not None:
        _ends_in_logits(t, name, net)
    return info


def _rebuilt(sub, t, name: str):
    """The network ``name()`` returns as the grader rebuilds it from torch's layers, or None (a failed check)."""
    from dlgrade.harness.errors import StudentError
    from dlgrade.harness.models import grader_network

    try:
        net = grader_network(sub, name, sample=IMAGES[:2], seed=0)
    except StudentError as exc:
        if exc.kind in ("missing", "not_implemented"):
            raise
        t.check(False, f"the grader can rebuild {name}() from torch's layers", points=1,
                detail=exc.message[:300], hint="use standard torch.nn layers in an nn.Sequential")
        return None
    t.check(True, f"the grader can rebuild {name}() from torch's layers", points=1)
    return net


def _ends_in_logits(t, name: str, net) -> None:
    from dlgrade.harness.outputs import final_activation

    squashed = final_activation(net.description)
    t.check(not squashed, f"{name}() ends with logits (no softmax, sigmoid or ReLU after its last layer)",
            points=1, detail=f"a {squashed} follows the last layer" if squashed else "",
            hint="remove it: cross-entropy applies log-softmax to the logits itself, and training with a "
                 "squashed output learns very slowly")


@question("q1", points=1, title="build_mlp: shape and layers", public=True)
def q1(sub, t):
    info = _network(sub, t, "build_mlp")
    if info is not None:
        kinds = {m["type"] for m in info["modules"]}
        t.check(not kinds & CONV_TYPES, "no convolutions in the MLP", points=1, detail=f"modules: {sorted(kinds)}")


@question("q2", points=1, title="build_cnn: shape, convolutions, parameter count", public=True)
def q2(sub, t):
    info = _network(sub, t, "build_cnn")
    if info is None:
        return
    kinds = {m["type"] for m in info["modules"]}
    t.check(bool(kinds & CONV_TYPES), "uses convolutions", points=1, detail=f"modules: {sorted(kinds)}")
    mlp = _counted(sub, "build_mlp").get("params")
    t.check(isinstance(mlp, int) and info["params"] < mlp, "fewer parameters than your MLP", points=1,
            detail=f"CNN {info['params']:,}, MLP {mlp}")


@question("q3", points=1, title="Both networks are ready for the grader's training", public=True)
def q3(sub, t):
    """What the grader's training needs, checked without training: the networks can be rebuilt from
    torch's layers, end in logits, and the CNN is large enough to learn ten classes."""
    for name in ("build_mlp", "build_cnn"):
        net = _rebuilt(sub, t, name)
        if net is None:
            continue
        _ends_in_logits(t, name, net)
        if name == "build_cnn":
            t.check(net.params >= 10_000, "the CNN is not tiny: at least 10,000 parameters (the design "
                    "suggested in Q2 has about 114,000)", points=1, detail=f"{net.params:,} parameters",
                    hint="a handful of filters cannot learn ten classes: use 32, 64 and 128 channels and pool "
                         "between the blocks")


@question("q4", points=1, title="shift_images on a small image", public=True)
def q4(sub, t):
    import torch

    image = np.arange(20, dtype=np.float32).reshape(1, 1, 4, 5)
    out = expect_array(sub.call("shift_images", torch.from_numpy(image), 1, 0), what="shift_images(image, 1, 0)")
    want = image[..., :, [0, 0, 1, 2, 3]]
    t.check(out.shape == want.shape and np.allclose(out, want),
            "dx=1 moves the content one pixel right and repeats the first column", points=1,
            detail=f"first row {out.reshape(-1, 5)[0].tolist() if out.size == 20 else out.shape}, "
                   f"expected {want[0, 0, 0].tolist()}")
    out = expect_array(sub.call("shift_images", torch.from_numpy(image), 0, -1), what="shift_images(image, 0, -1)")
    want = image[..., [1, 2, 3, 3], :]
    t.check(out.shape == want.shape and np.allclose(out, want),
            "dy=-1 moves the content one pixel up and repeats the last row", points=1)
    out = expect_array(sub.call("shift_images", torch.from_numpy(image), 0, 0), what="shift_images(image, 0, 0)")
    t.check(out.shape == image.shape and np.allclose(out, image), "no shift leaves the image as it is", points=1)
    out = expect_array(sub.call("shift_images", torch.from_numpy(image), 1, -2), what="shift_images(image, 1, -2)")
    want = image[..., [2, 3, 3, 3], :][..., [0, 0, 1, 2, 3]]
    t.check(out.shape == want.shape and np.allclose(out, want),
            "dx=1, dy=-2 moves the content one pixel right and two up, repeating the edge pixels", points=1,
            hint="output pixel (i, j) is input pixel (i - dy, j - dx), both clamped to the image")


@question("q5", points=1, title="Your numbers", public=True)
def q5(sub, t):
    keys = ("mlp_accuracy", "cnn_accuracy", "mlp_shifted_accuracy", "cnn_shifted_accuracy", "mlp_params",
            "cnn_params")
    if not t.check(sub.has("cifar_results"), "cifar_results exists", points=1,
                   hint="type in the numbers the training cells printed"):
        return
    table = sub.get("cifar_results")
    ok = isinstance(table, dict) and all(
        isinstance(table.get(k), (int, float)) and not isinstance(table.get(k), bool) for k in keys)
    if not t.check(ok, f"cifar_results has a number for each of {', '.join(keys)}", points=1):
        return
    counts = {name: _counted(sub, f"build_{name}").get("params") for name in ("mlp", "cnn")}
    t.check(table["mlp_params"] == counts["mlp"] and table["cnn_params"] == counts["cnn"],
            "the parameter counts are those of the networks build_mlp() and build_cnn() return", points=1,
            detail=f"yours {table['mlp_params']} and {table['cnn_params']}, the networks {counts['mlp']} and "
                   f"{counts['cnn']}", hint="count_parameters(build_mlp()) counts every weight and bias")
    acc = {k: float(table[k]) for k in keys if k.endswith("accuracy")}
    if not t.check(all(0.1 < v <= 1 for v in acc.values()), "the accuracies are fractions above chance (0.1)",
                   points=1, detail=str(acc), hint="0.654, not 65.4; near 0.1 the network did not learn"):
        return
    t.check(acc["cnn_accuracy"] > acc["mlp_accuracy"] and acc["cnn_shifted_accuracy"] > acc["mlp_shifted_accuracy"],
            "the CNN is the more accurate, on the images and on the shifted images", points=1, detail=str(acc),
            hint="if your CNN really came out behind, its design needs work (Q2): more filters, then train again")
    t.check(acc["cnn_shifted_accuracy"] <= acc["cnn_accuracy"] + 0.02
            and acc["mlp_shifted_accuracy"] <= acc["mlp_accuracy"] + 0.02,
            "shifted images are no easier than the originals", points=1, detail=str(acc))
