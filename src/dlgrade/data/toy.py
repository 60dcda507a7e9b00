"""Small generated datasets: the four XOR points and scikit-learn's two moons."""
from __future__ import annotations

import numpy as np
import torch

from dlgrade.data._base import Dataset, DatasetInfo, announce, labels_tensor, splits_text, validation_split


def load_xor(*, student: bool = True) -> Dataset:
    """The four XOR points as float32 in {0, 1} with int64 labels.

    There is nothing to hold out: the validation and test splits are the four training points.
    """
    X = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], dtype=torch.float32)
    y = torch.tensor([0, 1, 1, 0], dtype=torch.int64)
    info = DatasetInfo(
        name="xor", source="embedded", location="dlgrade.data.toy",
        description="the 4 points of XOR on {0, 1}^2, labelled x1 xor x2; every split is these 4 points",
        n_train=4, n_val=4, n_test=4, input_shape=(2,), classes=("0", "1"), mean=(0.0, 0.0), std=(1.0, 1.0),
    )
    announce(info)
    return Dataset(X_train=X, y_train=y, X_val=X.clone(), y_val=y.clone(), info=info,
                   secret=None if student else (X.clone(), y.clone()))


def load_moons(*, n_samples: int = 1000, noise: float = 0.2, seed: int = 0, test_size: float = 0.2,
               student: bool = True) -> Dataset:
    """scikit-learn's ``make_moons``, split stratified and standardised with the training statistics.

    ``test_size`` of the points form the test split (the grader's: ``student=True``,
    the default, leaves it out); a tenth of the rest form the validation split.
    """
    from sklearn.datasets import make_moons
    from sklearn.model_selection import train_test_split

    X, y = make_moons(n_samples=n_samples, noise=noise, random_state=seed)
    X_rest, X_test, y_rest, y_test = train_test_split(
        X, y, test_size=test_size, stratify=y, random_state=seed)
    train, val = validation_split(y_rest)
    X_train, y_train, X_val, y_val = X_rest[train], y_rest[train], X_rest[val], y_rest[val]
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    info = DatasetInfo(
        name="moons", source="embedded", location="sklearn.datasets.make_moons",
        description=(f"{n_samples} points of scikit-learn's two interleaving moons (noise {noise}, seed {seed}), "
                     f"split {splits_text(len(y_train), len(y_val), len(y_test))}, stratified and standardised"),
        n_train=len(y_train), n_val=len(y_val), n_test=len(y_test), input_shape=(2,),
        classes=("upper moon", "lower moon"),
        mean=tuple(float(m) for m in mean), std=tuple(float(s) for s in std),
    )
    announce(info)

    def scaled(points):
        return torch.from_numpy(((points - mean) / std).astype(np.float32))

    return Dataset(X_train=scaled(X_train), y_train=labels_tensor(y_train), X_val=scaled(X_val),
                   y_val=labels_tensor(y_val), info=info,
                   secret=None if student else (scaled(X_test), labels_tensor(y_test)))
