"""The cifar exercise's own shift (``shift_oracle`` in its hidden tests): the translation test's images and
the answer that the students' ``shift_images`` is checked against."""
from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from tests.test_exercises.conftest import ROOT


@pytest.fixture(scope="module")
def cifar_tests():
    spec = importlib.util.spec_from_file_location("cifar_hidden_tests", ROOT / "autograder" / "cifar" / "tests.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def edge_padded_shift(images: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """The definition: pad every side with copies of the edge, then cut the window moved by (dx, dy)."""
    h, w = images.shape[-2:]
    p = max(abs(dx), abs(dy), 1)
    padded = np.pad(images, [(0, 0)] * (images.ndim - 2) + [(p, p), (p, p)], mode="edge")
    return padded[..., p - dy:p - dy + h, p - dx:p - dx + w]


@pytest.mark.parametrize("shape", [(7, 9), (3, 7, 9), (4, 3, 8, 8)])
def test_shift_oracle_is_an_edge_padded_translation(cifar_tests, shape):
    """Does shift_oracle move the content dx right and dy down, repeating the edge pixels, for a single
    plane, an image and a batch, and give a new array of the same type?"""
    images = np.random.default_rng(0).integers(0, 255, size=shape).astype(np.float32)
    for dx in range(-4, 5, 2):
        for dy in (-3, 0, 1):
            out = cifar_tests.shift_oracle(images, dx, dy)
            assert out.dtype == images.dtype and np.array_equal(out, edge_padded_shift(images, dx, dy)), (dx, dy)
            before = images.copy()
            out[...] = -1
            assert np.array_equal(images, before), f"shift ({dx}, {dy}) returned a view of its input"
    moved = cifar_tests.shift_oracle(images, 2, 0)
    assert np.array_equal(moved[..., 2:], images[..., :-2]) and np.array_equal(moved[..., 0], images[..., 0])


def test_shift_each_moves_every_image_one_of_four_ways(cifar_tests):
    """Does shift_each move each image by `pixels` in one of the four directions, with every direction used?"""
    images = np.random.default_rng(1).random((200, 3, 12, 12), dtype=np.float32)
    out = cifar_tests.shift_each(images, 3, np.random.default_rng(2))
    moves = [(3, 0), (-3, 0), (0, 3), (0, -3)]
    used = set()
    for image, got in zip(images, out):
        match = [m for m in moves if np.array_equal(got, edge_padded_shift(image, *m))]
        assert len(match) == 1
        used.add(match[0])
    assert used == set(moves)
