"""The ablation exercise's reference epochs (``reference_epoch`` in its hidden tests), against which q1 names
a student's training-loop mistake."""
from __future__ import annotations

import importlib.util

import pytest
import torch

from tests.test_exercises.conftest import ROOT


@pytest.fixture(scope="module")
def ablation_tests():
    from dlgrade.harness.factories import load_exercise_factories

    folder = ROOT / "autograder" / "ablation"
    load_exercise_factories(folder / "factories.py")
    spec = importlib.util.spec_from_file_location("ablation_hidden_tests", folder / "tests.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_one_probe_reused_gives_each_variant_the_epoch_of_a_fresh_one(ablation_tests):
    """Does reference_epoch on one probe, after every other variant has run on it (weights moved, gradients
    left over, batch-norm statistics updated, mode switched), give each variant the weights and losses it
    gives on a freshly built probe?"""
    torch.manual_seed(3)
    start = {k: v.detach().clone() for k, v in ablation_tests.probe_model().state_dict().items()}
    start = {k: v + 0.01 * torch.randn_like(v) if v.is_floating_point() else v for k, v in start.items()}
    X, y = torch.randn(40, 1, 28, 28), torch.randint(0, 10, (40,))
    batches = [(X[i:i + 16], y[i:i + 16]) for i in range(0, 40, 16)]
    reused = ablation_tests.probe_model()
    variants = list(ablation_tests.EPOCH_VARIANTS.items())
    for name, (m, z, s) in variants + variants[::-1]:
        got_state, got_losses = ablation_tests.reference_epoch(reused, start, batches, train_mode=m, zero_grad=z,
                                                               step_each=s)
        want_state, want_losses = ablation_tests.reference_epoch(ablation_tests.probe_model(), start, batches,
                                                                 train_mode=m, zero_grad=z, step_each=s)
        assert got_losses == want_losses, name
        assert got_state.keys() == want_state.keys()
        assert all(torch.equal(got_state[k], want_state[k]) for k in want_state), name
    assert not torch.equal(got_state["1.weight"], start["1.weight"]), "the epochs did not move the weights"
