"""What follows a network's last layer, read from its forward pass (dlgrade.harness.outputs)."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional


class Named(nn.Module):
    """Layers defined in another order than they run: the activation module is defined last."""

    def __init__(self, end=None):
        super().__init__()
        self.fc1, self.fc2, self.act = nn.Linear(2, 4), nn.Linear(4, 3), nn.ReLU()
        self.end = end

    def forward(self, x):
        x = self.fc2(self.act(self.fc1(x)))
        return self.end(x, dim=1) if self.end else x


CASES = [
    ("plain", lambda: nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 3)), ""),
    ("softmax", lambda: nn.Sequential(nn.Linear(2, 3), nn.Softmax(dim=1)), "softmax"),
    ("softmax over the batch", lambda: nn.Sequential(nn.Linear(2, 3), nn.Softmax(dim=0)), "softmax"),
    ("sigmoid then dropout", lambda: nn.Sequential(nn.Linear(2, 3), nn.Sigmoid(), nn.Dropout(0.1)), "sigmoid"),
    ("relu after the last layer", lambda: nn.Sequential(nn.Linear(2, 3), nn.ReLU()), "ReLU"),
    ("log-softmax", lambda: nn.Sequential(nn.Linear(2, 3), nn.LogSoftmax(dim=1)), ""),
    ("activation defined last", lambda: Named(), ""),
    ("functional softmax", lambda: Named(F.softmax), "softmax"),
]


@pytest.mark.parametrize("name, build, want", CASES, ids=[c[0] for c in CASES])
def test_final_activation_reads_the_forward_pass(name, build, want):
    """Is a squashing step after the last layer found, whatever the module order, and nothing else?"""
    from dlgrade.harness.netdesc import describe, rebuild
    from dlgrade.harness.outputs import final_activation

    net = rebuild(describe(build(), torch.zeros(3, 2)), seed=0)
    assert final_activation(net.description) == want
