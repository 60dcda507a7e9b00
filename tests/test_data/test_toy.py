"""XOR and the two moons."""
from __future__ import annotations

import pytest
import torch

from dlgrade.data import load_moons, load_xor


def test_xor_is_the_truth_table():
    """Are the four points and labels exactly XOR's truth table, with validation and test equal to train?"""
    data = load_xor(student=False)
    assert data.X_train.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert data.y_train.tolist() == [0, 1, 1, 0]
    assert torch.equal(data.X_test, data.X_train) and torch.equal(data.y_test, data.y_train)
    assert torch.equal(data.X_val, data.X_train) and torch.equal(data.y_val, data.y_train)


def test_xor_copies_do_not_alias():
    """Does changing the validation or test tensors leave the training tensors alone?"""
    data = load_xor(student=False)
    data.X_test[0, 0] = 5.0
    data.X_val[0, 0] = 6.0
    assert data.X_train[0, 0] == 0.0


def test_moons_are_standardised_with_training_statistics():
    """Are the training features mean 0 / std 1, with info.mean/std the raw training statistics?"""
    from sklearn.datasets import make_moons
    from sklearn.model_selection import train_test_split

    from dlgrade.data._base import validation_split

    data = load_moons(student=False)
    torch.testing.assert_close(data.X_train.mean(0), torch.zeros(2), atol=1e-5, rtol=0)
    torch.testing.assert_close(data.X_train.std(0, unbiased=False), torch.ones(2), atol=1e-5, rtol=0)
    X, y = make_moons(n_samples=1000, noise=0.2, random_state=0)
    X_rest, X_test, y_rest, _ = train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)
    X_train = X_rest[validation_split(y_rest)[0]]
    assert data.info.mean == tuple(X_train.mean(0)) and data.info.std == tuple(X_train.std(0))
    expected = torch.tensor((X_test - X_train.mean(0)) / X_train.std(0), dtype=torch.float32)
    torch.testing.assert_close(data.X_test, expected)


def test_moons_options_are_honoured():
    """Do n_samples, test_size and seed change the split as asked, stratified?"""
    data = load_moons(n_samples=200, test_size=0.25, seed=3, student=False)
    assert (data.info.n_train, data.info.n_val, data.info.n_test) == (134, 16, 50)
    assert data.y_test.bincount().tolist() == [25, 25]
    assert not torch.equal(load_moons(seed=1).X_train, load_moons(seed=2).X_train)


def test_student_view_has_no_test_split():
    """Does the default (student) view refuse the test split with a hint at validation, unlike the grader's?"""
    from dlgrade.errors import DataError

    student, grader = load_moons(), load_moons(student=False)
    assert student.student and not grader.student
    with pytest.raises(DataError, match="kept by the grader") as caught:
        student.X_test
    assert "X_val" in caught.value.hint
    assert torch.equal(student.X_val, grader.X_val) and torch.equal(student.X_train, grader.X_train)
