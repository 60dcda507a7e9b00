"""A model must reach the grader untrained."""
import numpy as np
import pytest

from dlgrade.harness import LocalSubmission, StudentError
from dlgrade.harness.models import require_untrained

CODE = '''
import torch, torch.nn as nn

class Memorised(nn.Module):
    """Stands for a model trained on the test images: reads the label hidden in pixel 0."""
    def forward(self, x):
        return 10.0 * nn.functional.one_hot(x[:, 0].long(), 10).float()

def build_cheat():
    return Memorised()

def build_honest():
    return nn.Sequential(nn.Flatten(), nn.Linear(4, 10))
'''


@pytest.fixture()
def sub():
    ns = {}
    exec(compile(CODE, "<cell 1>", "exec"), ns)
    return LocalSubmission(ns)


def test_pre_trained_model_is_refused_and_a_fresh_one_passes(sub):
    """Is a builder that returns an already-accurate model stopped, while a fresh model goes through?"""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 200)
    X = rng.normal(size=(200, 4)).astype(np.float32)
    X[:, 0] = y
    with pytest.raises(StudentError, match="before any training"):
        require_untrained(sub, sub.call_with("build_cheat", seed=0), X, y, what="build_cheat()")
    require_untrained(sub, sub.call_with("build_honest", seed=0), X, y, what="build_honest()")
