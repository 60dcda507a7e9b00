"""The CIFAR-10 stand-in: labelled as such, built as documented, and hard for an MLP."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from dlgrade.data import load_cifar10, load_mnist, standin

from .builders import unnormalise


@pytest.fixture(scope="module")
def data():
    return load_cifar10(source="embedded", student=False)


def test_it_says_it_is_not_cifar(data):
    """Do source, description and class names all say this is digits, not CIFAR-10?"""
    assert data.info.source == "stand-in"
    assert data.info.description.startswith("NOT CIFAR-10")
    assert data.info.classes == tuple(f"digit {d}" for d in range(10))


def test_labels_are_the_embedded_digit_labels(data):
    """Is each canvas labelled with the digit drawn on it, in the embedded MNIST split (all three splits)?"""
    digits = load_mnist(source="embedded", student=False)
    assert torch.equal(data.y_train, digits.y_train) and torch.equal(data.y_test, digits.y_test)
    assert torch.equal(data.y_val, digits.y_val)


def test_digits_are_drawn_brighter_than_the_background(data):
    """Is the ink of each digit brighter than its background by about MIN_CONTRAST, in mean channel value?"""
    pixels = unnormalise(data.X_train, data.info).mean(axis=1)  # (N, 32, 32) mean over channels
    background = pixels[:, 0, 0]  # MNIST digits leave their border empty: a corner is background
    ink = pixels.reshape(len(pixels), -1).max(axis=1)
    assert np.all(ink - background >= standin.MIN_CONTRAST * 255 * 0.8)


def test_colours_vary_between_images(data):
    """Do backgrounds take many colours, so colour alone says nothing about the class?"""
    corners = unnormalise(data.X_train, data.info)[:, :, 0, 0]
    assert len({tuple(c) for c in corners.tolist()}) > 3000
    per_class = [corners[data.y_train.numpy() == k].mean(0) for k in range(10)]
    assert np.ptp(per_class, axis=0).max() < 20


def test_digits_sit_at_varying_places(data):
    """Is each digit shifted by 0..4 pixels at random in both directions (the spread of its centre of mass)?

    MNIST centres digits by centre of mass at (13.5, 13.5) in their 28x28 box, where
    it varies by about 0.3 pixel; a uniform shift of 0..4 adds 2 on average and a
    spread of 1.41.
    """
    pixels = unnormalise(data.X_train, data.info).mean(axis=1)
    ink = np.abs(pixels - pixels[:, :1, :1])
    rows, cols = np.arange(32)[None, :, None], np.arange(32)[None, None, :]
    row_centre = (ink * rows).sum((1, 2)) / ink.sum((1, 2))
    col_centre = (ink * cols).sum((1, 2)) / ink.sum((1, 2))
    for centre in (row_centre, col_centre):
        assert abs(centre.mean() - (13.5 + 2)) < 0.7 and 1.2 < centre.std() < 1.7


def _train(model, X, y, *, epochs, seed, batch_size=128, lr=2e-3):
    torch.manual_seed(seed)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(epochs):
        order = torch.randperm(len(y))
        for start in range(0, len(y), batch_size):
            batch = order[start:start + batch_size]
            optimiser.zero_grad()
            torch.nn.functional.cross_entropy(model(X[batch]), y[batch]).backward()
            optimiser.step()
    return model


def _accuracy(model, X, y):
    model.eval()
    with torch.no_grad():
        return (model(X).argmax(1) == y).float().mean().item()


@pytest.mark.slow
def test_a_small_cnn_beats_a_bigger_mlp(data):
    """After a few epochs, does a 24k-parameter CNN clearly beat a 16x larger MLP (the inductive-bias gap)?

    Seeds 0 and 1 of this recipe gave CNN 0.903 / 0.892 against MLP 0.576 / 0.595.
    """
    nn = torch.nn
    torch.manual_seed(0)
    cnn = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.AdaptiveMaxPool2d(1),
                        nn.Flatten(), nn.Linear(64, 10))
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 128), nn.ReLU(), nn.Linear(128, 10))
    n_cnn, n_mlp = (sum(p.numel() for p in m.parameters()) for m in (cnn, mlp))
    assert n_mlp > 10 * n_cnn
    X, y = data.train
    scores = {name: _accuracy(_train(model, X, y, epochs=3, seed=0), *data.test)
              for name, model in (("cnn", cnn), ("mlp", mlp))}
    assert scores["cnn"] > scores["mlp"] + 0.1, scores
