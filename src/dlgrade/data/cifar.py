"""CIFAR-10: 32x32 colour photos in 10 classes, from pickled batches, image folders or a zip.

Offline there is no embedded CIFAR-10; :mod:`dlgrade.data.standin` builds a
clearly labelled stand-in of the same shape instead.
"""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from dlgrade.data import _imagefolder
from dlgrade.data._base import Dataset, ImageArrays
from dlgrade.data._files import FileBacked, Found, load_files
from dlgrade.errors import DataError

MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2470, 0.2435, 0.2616)
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
INPUT_SHAPE = (3, 32, 32)
BATCHES_DIR = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
TREE_SUBFOLDERS = ("cifar10", "cifar-10", "CIFAR10")


def load_cifar10(*, data_dir=None, data_home=None, source: str = "auto", download: bool = False,
                 student: bool = True) -> Dataset:
    """Load CIFAR-10 as (N, 3, 32, 32) float32 images normalised per channel.

    A tenth of the training images form the validation split; ``student=True``
    (the default) leaves out the test split, which only the grader loads.

    Mean (0.4914, 0.4822, 0.4465), std (0.2470, 0.2435, 0.2616). Sources as for
    :func:`dlgrade.data.load_mnist`; offline (``source="embedded"``) the result
    is the stand-in of :mod:`dlgrade.data.standin`, announced with a warning.
    """
    return load_files(SPEC, data_dir=data_dir, data_home=data_home, source=source, download=download,
                      student=student)


def _batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    # The official CIFAR-10 python format is pickled dicts: trusted dataset files, read as such.
    try:
        with open(path, "rb") as handle:
            entry = pickle.load(handle, encoding="latin1")
        data = np.asarray(entry["data"], dtype=np.uint8)
        labels = np.asarray(entry.get("labels", entry.get("fine_labels")), dtype=np.int64)
    except (OSError, EOFError, pickle.UnpicklingError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DataError(f"{path} is not a CIFAR-10 python batch (a pickled dict with 'data' and 'labels'): "
                        f"{exc}") from exc
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or labels.shape != (len(data),):
        raise DataError(f"{path} holds data of shape {data.shape} and {labels.size} labels; "
                        f"expected (N, 3072) uint8 rows and N labels")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise DataError(f"{path} has labels outside 0..9")
    return data.reshape(-1, 3, 32, 32), labels


def _read_batches(folder: Path) -> ImageArrays:
    train = [_batch(folder / name) for name in TRAIN_BATCHES]
    x_test, y_test = _batch(folder / TEST_BATCH)
    return ImageArrays(x_train=np.concatenate([x for x, _ in train]), y_train=np.concatenate([y for _, y in train]),
                       x_test=x_test, y_test=y_test)


def find(folder: Path, data_home: Path) -> Found | None:
    """CIFAR-10 in ``folder``: pickled batches, an image-folder tree, or a zip of one."""
    shape = INPUT_SHAPE
    if folder.is_file() and folder.suffix == ".zip":
        return _zip(folder, data_home, strict=True)
    if not folder.is_dir():
        return None
    for batches in (folder / BATCHES_DIR, folder):
        present = [name for name in (*TRAIN_BATCHES, TEST_BATCH) if (batches / name).is_file()]
        if present:
            missing = [name for name in (*TRAIN_BATCHES, TEST_BATCH) if name not in present]
            if missing:
                raise DataError(f"incomplete CIFAR-10 batches in {batches}: missing {', '.join(missing)}")
            return Found(location=batches, layout="torchvision's pickled batches",
                         read=lambda b=batches: _read_batches(b))
    root = _imagefolder.find_tree(folder, TREE_SUBFOLDERS)
    if root is not None:
        return Found(location=root, layout="an image-folder tree", read=lambda: _imagefolder.read_tree(
            root, classes=CLASSES, shape=shape, data_home=data_home, name="cifar10"))
    for sub in ("", *TREE_SUBFOLDERS):
        for path in sorted((folder / sub).glob("*.zip")):
            found = _zip(path, data_home, strict=False)
            if found is not None:
                return found
    return None


def _zip(path: Path, data_home: Path, *, strict: bool) -> Found | None:
    prefix = _imagefolder.zip_prefix(path)
    if prefix is None:
        if strict:
            raise DataError(f"{path} holds no image-folder tree: expected train/<class>/* and test/<class>/* "
                            f"(possibly under one folder such as cifar10/)")
        return None
    return Found(location=path, layout="a zip of image folders", read=lambda: _imagefolder.read_zip(
        path, prefix, classes=CLASSES, shape=INPUT_SHAPE, data_home=data_home, name="cifar10"))


def expected(folder: Path) -> str:
    roots = ", ".join(str(folder / sub) for sub in TREE_SUBFOLDERS)
    return (f"torchvision's pickled batches ({folder / BATCHES_DIR}/data_batch_1 to _5 and test_batch), "
            f"an image-folder tree (train/<class>/*.png or .jpg and test/<class>/*) in {folder} or in "
            f"{roots}, or a .zip holding such a tree in one of those folders")


def fetch(home: Path) -> None:
    """Download CIFAR-10 into ``home/cifar-10-batches-py`` with torchvision (md5-checked)."""
    from torchvision.datasets import CIFAR10

    CIFAR10(str(home), train=True, download=True)


def load_standin(*, student: bool = True) -> Dataset:
    from dlgrade.data.standin import load_standin as build

    return build(student=student)


SPEC = FileBacked(name="cifar10", title="CIFAR-10", classes=CLASSES, input_shape=INPUT_SHAPE, mean=MEAN,
                  std=STD, find=find, expected=expected, fetch=fetch, embedded=load_standin,
                  home_folder=BATCHES_DIR, offline_source="stand-in")
