"""Small generated datasets: the four XOR points and scikit-learn's two moons."""
from __future__ import annotations

import numpy as np
import torch

from dlgrade.data._base import Dataset, DatasetInfo, announce, labels_tensor


def load_xor() -> Dataset:
    """The four XOR points as float32 in {0, 1} with int64 labels; the test set is the training set."""
    X = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], dtype=torch.float32)
    y = torch.tensor([0, 1, 1, 0], dtype=torch.int64)
    info = DatasetInfo(
        name="xor", source="embedded", location="dlgrade.data.toy",
        description="the 4 points of XOR on {0, 1}^2, labelled x1 xor x2; the test set is the training set",
        n_train=4, n_test=4, input_shape=(2,), classes=("0", "1"), mean=(0.0, 0.0), std=(1.0, 1.0),
    )
    announce(info)
    return Dataset(X_train=X, y_train=y, X_test=X.clone(), y_test=y.clone(), info=info)


def load_moons(*, n_samples: int = 1000, noise: float = 0.2, seed: int = 0, test_size: float = 0.2) -> Dataset:
    """scikit-learn's ``make_moons``, split stratified and standardised with the training statistics."""
    from sklearn.datasets import make_moons
    from sklearn.model_selection import train_test_split

    X, y = make_moons(n_samples=n_samples, noise=noise, random_state=seed)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, stratify=y, random_state=seed)
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    info = DatasetInfo(
        name="moons", source="embedded", location="sklearn.datasets.make_moons",
        description=(f"{n_samples} points of scikit-learn's two interleaving moons (noise {noise}, seed {seed}), "
                     f"split {len(y_train)}/{len(y_test)} stratified and standardised"),
        n_train=len(y_train), n_test=len(y_test), input_shape=(2,), classes=("upper moon", "lower moon"),
        mean=tuple(float(m) for m in mean), std=tuple(float(s) for s in std),
    )
    announce(info)
    return Dataset(
        X_train=torch.from_numpy(((X_train - mean) / std).astype(np.float32)),
        y_train=labels_tensor(y_train),
        X_test=torch.from_numpy(((X_test - mean) / std).astype(np.float32)),
        y_test=labels_tensor(y_test),
        info=info,
    )
