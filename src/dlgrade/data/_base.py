"""What every dataset shares: where data lives, how it is described, how it becomes tensors.

A loader returns a :class:`Dataset`: normalised float32 inputs, int64 labels and
a :class:`DatasetInfo` that says which data it is and where it came from.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

log = logging.getLogger("dlgrade.data")

DATA_HOME_ENV = "DLGRADE_DATA_HOME"
DATA_DIR_ENV = "DLGRADE_DATA"
DEFAULT_DATA_HOME = "~/dlgrade_data"

SOURCES = ("directory", "cache", "download", "embedded", "stand-in")
"""Where a dataset's numbers came from, as recorded in :attr:`DatasetInfo.source`."""


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
    """Number of training examples."""
    n_test: int
    """Number of test examples."""
    input_shape: tuple[int, ...]
    """Shape of one input, e.g. ``(1, 28, 28)``."""
    classes: tuple[str, ...]
    """Class names; label ``i`` means ``classes[i]``."""
    mean: tuple[float, ...]
    """Mean subtracted from the raw inputs: per channel for images (whose pixels
    are first scaled to [0, 1]), per feature otherwise."""
    std: tuple[float, ...]
    """Standard deviation the centred inputs were divided by, laid out like ``mean``."""


@dataclass(frozen=True)
class Dataset:
    """A train/test split as tensors, with its :class:`DatasetInfo`."""

    X_train: torch.Tensor
    """Training inputs, float32, normalised with ``info.mean``/``info.std``."""
    y_train: torch.Tensor
    """Training labels, int64 in ``range(len(info.classes))``."""
    X_test: torch.Tensor
    """Test inputs, float32, normalised like the training inputs."""
    y_test: torch.Tensor
    """Test labels, int64."""
    info: DatasetInfo
    """What the data is and where it came from."""

    @property
    def train(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(X_train, y_train)``."""
        return self.X_train, self.y_train

    @property
    def test(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(X_test, y_test)``."""
        return self.X_test, self.y_test


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


def image_dataset(arrays: ImageArrays, info: DatasetInfo) -> Dataset:
    """Normalise ``arrays`` with ``info.mean``/``info.std`` and announce which data it is."""
    data = Dataset(
        X_train=normalise_images(arrays.x_train, info.mean, info.std),
        y_train=labels_tensor(arrays.y_train),
        X_test=normalise_images(arrays.x_test, info.mean, info.std),
        y_test=labels_tensor(arrays.y_test),
        info=info,
    )
    announce(info)
    return data


def announce(info: DatasetInfo) -> None:
    """Log which data was loaded: a warning for a stand-in, info otherwise."""
    level = logging.WARNING if info.source == "stand-in" else logging.INFO
    log.log(level, "%s: %s", info.name, info.description)
