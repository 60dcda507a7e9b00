"""Objects the ablation tests and self-checks build on the student's side.

Built on the student's side by ``sub.make(name, ...)`` (see ``dlgrade.harness.factories``): this file
is sent there with the request, so it holds nothing secret.
"""
from dlgrade.harness.factories import factory


@factory("train_probe")
def make_train_probe(sizes):
    """An MLP ``sizes[0] -> sizes[1] -> ... -> sizes[-1]`` with BatchNorm after each hidden Linear.

    BatchNorm makes one training step differ, deterministically, between
    training and eval mode (batch statistics and running averages), so the
    weights after a student's ``train_epoch`` show whether it called
    ``model.train()``.
    """
    import torch.nn as nn

    layers: list = [nn.Flatten()]
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(int(a), int(b)))
        if i < len(sizes) - 2:
            layers += [nn.BatchNorm1d(int(b)), nn.ReLU()]
    return nn.Sequential(*layers)
