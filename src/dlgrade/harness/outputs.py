"""Logits or not: what a network does after its last layer, read from its description.

The grader trains every network with cross-entropy, which applies log-softmax to
the logits itself. A softmax, a sigmoid or a ReLU after the last layer squashes
the logits first, and learning slows or stalls. Judging that from output values
alone misses most cases (a sigmoid's rows do not sum to 1; a softmax over the
wrong axis neither), so the hidden tests read the forward pass instead: the
description of a network rebuilt by the grader (:mod:`dlgrade.harness.netdesc`)
lists its operations in the order they run.

``LogSoftmax`` is not reported: cross-entropy of log-probabilities equals
cross-entropy of the logits (log-softmax is idempotent), so it trains and
predicts exactly as the network without it.
"""
from __future__ import annotations

SQUASHING = {
    "Softmax": "softmax", "Softmin": "softmin", "Sigmoid": "sigmoid", "Hardsigmoid": "sigmoid",
    "ReLU": "ReLU", "ReLU6": "ReLU", "softmax": "softmax", "torch.softmax": "softmax", "sigmoid": "sigmoid",
    "torch.sigmoid": "sigmoid", "relu": "ReLU", "relu6": "ReLU", "torch.relu": "ReLU",
}
"""Layers, functions and tensor methods that squash logits, by the name a description gives them."""
PASS_THROUGH = {"Dropout", "Identity", "Flatten", "Unflatten", "flatten", "torch.flatten", "view", "reshape",
                "torch.reshape", "squeeze", "torch.squeeze", "contiguous", "float"}
"""Operations that leave the values as they are: looked through on the way back from the output."""


def final_activation(description: dict) -> str:
    """What squashes the outputs of a described network ('softmax', 'sigmoid', 'ReLU'), or ''.

    ``description`` is ``Network.description``: walks back from the output through operations
    that keep the values and reports the first one that squashes them.
    """
    nodes = {n.get("name"): n for n in description.get("nodes", [])}
    classes = {m.get("path"): m.get("class") for m in description.get("modules", [])}
    out = next((n for n in nodes.values() if n.get("op") == "output"), None)
    node = _first_input(out, nodes)
    for _ in range(len(nodes)):
        if node is None:
            return ""
        kind = classes.get(node.get("target")) if node.get("op") == "module" else node.get("target")
        if kind in SQUASHING:
            return SQUASHING[kind]
        if kind not in PASS_THROUGH:
            return ""
        node = _first_input(node, nodes)
    return ""


def _first_input(node: dict | None, nodes: dict) -> dict | None:
    """The node whose value ``node`` takes as its first tensor argument."""
    for arg in (node or {}).get("args", []):
        if isinstance(arg, dict) and "node" in arg:
            return nodes.get(arg["node"])
        if isinstance(arg, list):
            found = next((a for a in arg if isinstance(a, dict) and "node" in a), None)
            if found is not None:
                return nodes.get(found["node"])
    return None
