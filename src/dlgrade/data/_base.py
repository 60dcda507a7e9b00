"""What every dataset shares: where data lives, how it is described, how it becomes tensors.

A loader returns a :class:`Dataset`: normalised float32 inputs, int64 labels and
a :class:`DatasetInfo` that says which data it is and where it came from.

Every dataset has three splits. ``train`` and ``validation`` are the student's:
the validation split is a seeded, stratified tenth of the training data
(:func:`validation_split`), for measuring what was trained. ``test`` is the
grader's: a loader called with ``student=True`` (the default, and what a
notebook gets) never builds it, and asking such a view for it is a
:class:`DataError`; only the grader loads with ``student=False`` and scores
hidden accuracy checks on it.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from dlgrade.errors import DataError

log = logging.getLogger("dlgrade.data")

DATA_HOME_ENV = "DLGRADE_DATA_HOME"
DATA_DIR_ENV = "DLGRADE_DATA"
DEFAULT_DATA_HOME = "~/dlgrade_data"

SOURCES = ("directory", "cache", "download", "embedded", "stand-in")
"""Where a dataset's numbers came from, as recorded in :attr:`DatasetInfo.source`."""

VALIDATION_FRACTION = 0.1
"""Share of each class of the training data set aside as the public validation split."""
VALIDATION_SEED = 0
"""Seed of the validation split, the same on every machine."""


def get_data_home(data_home: str | os.PathLike | None = None) -> Path:
    """Return the folder where downloads and decoded caches are kept.

    ``data_home`` if given, else ``$DLGRADE_DATA_HOME``, else ``~/dlgrade_data``.
    The folder is not created here; writers create it when they need it.
    """
    chosen = data_home or os.environ.get(DATA_HOME_ENV) or DEFAULT_DATA_HOME
    return Path(chosen).expanduser()


def get_data_dir(data_dir: str | os.PathLike | None = None) -> Path | None:
    """Return the user's own data directory: ``data_dir`` if given, else ``$DLGRADE_DATA``, else None."""
    chosen = data_dir or os.environ.get(DATA_DIR_ENV)
    return Path(chosen).expanduser() if chosen else None


@dataclass(frozen=True)
class DatasetInfo:
    """Which data a :class:`Dataset` holds and where it came from."""

    name: str
    """Registry name: ``"mnist"``, ``"cifar10"``, ``"xor"`` or ``"moons"``."""
    source: str
    """One of :data:`SOURCES`: a user directory, the data-home cache, a fresh
    download, data embedded in a dependency, or a stand-in for missing data."""
    location: str
    """The file or folder read, or the package the data was taken from."""
    description: str
    """One sentence for humans, naming the real data it is (or is not)."""
    n_train: int
    """Number of training examples (the validation split excluded)."""
    n_test: int
    """Number of test examples (kept by the grader; only the count is public)."""
    input_shape: tuple[int, ...]
    """Shape of one input, e.g. ``(1, 28, 28)``."""
    classes: tuple[str, ...]
    """Class names; label ``i`` means ``classes[i]``."""
    mean: tuple[float, ...]
    """Mean subtracted from the raw inputs: per channel for images (whose pixels
    are first scaled to [0, 1]), per feature otherwise."""
    std: tuple[float, ...]
    """Standard deviation the centred inputs were divided by, laid out like ``mean``."""
    n_val: int = 0
    """Number of validation examples (taken out of the training data)."""


@dataclass(frozen=True)
class Dataset:
    """Train, validation and (in the grader's view only) test splits as tensors, with a :class:`DatasetInfo`."""

    X_train: torch.Tensor
    """Training inputs, float32, normalised with ``info.mean``/``info.std``."""
    y_train: torch.Tensor
    """Training labels, int64 in ``range(len(info.classes))``."""
    X_val: torch.Tensor
    """Validation inputs, normalised like the training inputs: the student's held-out data."""
    y_val: torch.Tensor
    """Validation labels, int64."""
    info: DatasetInfo
    """What the data is and where it came from."""
    secret: tuple[torch.Tensor, torch.Tensor] | None = field(default=None, repr=False)
    """The test split ``(X, y)`` in the grader's view (``student=False``); None in the student's."""

    @property
    def student(self) -> bool:
        """True for the student's view, which holds no test split."""
        return self.secret is None

    @property
    def train(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(X_train, y_train)``."""
        return self.X_train, self.y_train

    @property
    def validation(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(X_val, y_val)``."""
        return self.X_val, self.y_val

    @property
    def test(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(X_test, y_test)``: the grader's view only; the student's view raises :class:`DataError`."""
        if self.secret is None:
            raise DataError(f"{self.info.name}: the test split is kept by the grader and not loaded here",
                            hint=f"measure on the validation split: {self.info.name}.X_val, "
                                 f"{self.info.name}.y_val ({self.info.n_val} examples)")
        return self.secret

    @property
    def X_test(self) -> torch.Tensor:
        """Test inputs (grader's view only)."""
        return self.test[0]

    @property
    def y_test(self) -> torch.Tensor:
        """Test labels (grader's view only)."""
        return self.test[1]


@dataclass(frozen=True)
class ImageArrays:
    """A split of 8-bit images as read from disk, before normalisation."""

    x_train: np.ndarray
    """uint8, shape (N, C, H, W)."""
    y_train: np.ndarray
    """Integer labels, shape (N,)."""
    x_test: np.ndarray
    """uint8, shape (M, C, H, W)."""
    y_test: np.ndarray
    """Integer labels, shape (M,)."""
    n_test: int | None = None
    """In a student's view (empty ``x_test`` and ``y_test``), how many test images the grader has;
    None: ``len(y_test)``."""

    @property
    def count_test(self) -> int:
        """Number of test images, whether they are here or kept by the grader."""
        return len(self.y_test) if self.n_test is None else self.n_test

    @property
    def student_only(self) -> bool:
        """True for a student's view, which holds no test images."""
        return self.n_test is not None and self.n_test != len(self.y_test)


def normalise_images(x: np.ndarray, mean: tuple[float, ...], std: tuple[float, ...]) -> torch.Tensor:
    """uint8 (N, C, H, W) -> float32 ``(x / 255 - mean) / std`` per channel."""
    out = torch.from_numpy(np.require(x, requirements=["C", "W"])).to(torch.float32).div_(255.0)
    shape = (1, len(mean)) + (1,) * (out.dim() - 2)
    out.sub_(torch.tensor(mean, dtype=torch.float32).view(shape))
    out.div_(torch.tensor(std, dtype=torch.float32).view(shape))
    return out


def labels_tensor(y: np.ndarray) -> torch.Tensor:
    """Integer labels -> a fresh int64 tensor."""
    return torch.from_numpy(np.asarray(y).astype(np.int64, copy=True))


def validation_split(y: np.ndarray, fraction: float = VALIDATION_FRACTION,
                     seed: int = VALIDATION_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(train, validation)`` into labels ``y``: ``fraction`` of each class, drawn with ``seed``.

    Both index arrays are sorted, so each split keeps the order of the file. At
    least one example goes to validation when ``y`` has two or more.
    """
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    chosen = []
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        chosen.append(rng.permutation(members)[:int(round(len(members) * fraction))])
    val = np.sort(np.concatenate(chosen)) if chosen else np.zeros(0, dtype=np.int64)
    if len(val) == 0 and len(y) >= 2:
        val = np.array([int(rng.integers(len(y)))])
    keep = np.ones(len(y), dtype=bool)
    keep[val] = False
    return np.flatnonzero(keep), val.astype(np.int64)


def split_sizes(arrays: ImageArrays) -> tuple[int, int, int]:
    """``(n_train, n_val, n_test)`` once :func:`validation_split` has taken its share of the training data."""
    train, val = validation_split(arrays.y_train)
    return len(train), len(val), arrays.count_test


def splits_text(n_train: int, n_val: int, n_test: int) -> str:
    """The split sizes in words, for descriptions."""
    return f"{n_train:,} train / {n_val:,} validation / {n_test:,} test"


def image_dataset(arrays: ImageArrays, info: DatasetInfo, *, student: bool = True) -> Dataset:
    """Split off validation, normalise with ``info.mean``/``info.std``, announce which data it is.

    The test images are normalised only for the grader's view (``student=False``).
    """
    train, val = validation_split(arrays.y_train)
    if (info.n_train, info.n_val, info.n_test) != (len(train), len(val), arrays.count_test):
        raise ValueError(f"{info.name}: info gives {info.n_train}/{info.n_val}/{info.n_test} examples, "
                         f"the arrays split {len(train)}/{len(val)}/{arrays.count_test}")
    secret = None
    if not student:
        if arrays.student_only:
            raise ValueError(f"{info.name}: these arrays are a student's view, without the test split")
        secret = (normalise_images(arrays.x_test, info.mean, info.std), labels_tensor(arrays.y_test))
    data = Dataset(
        X_train=normalise_images(arrays.x_train[train], info.mean, info.std),
        y_train=labels_tensor(arrays.y_train[train]),
        X_val=normalise_images(arrays.x_train[val], info.mean, info.std),
        y_val=labels_tensor(arrays.y_train[val]),
        info=info,
        secret=secret,
    )
    announce(info)
    return data


def announce(info: DatasetInfo) -> None:
    """Log which data was loaded: a warning for a stand-in, info otherwise."""
    level = logging.WARNING if info.source == "stand-in" else logging.INFO
    log.log(level, "%s: %s", info.name, info.description)
