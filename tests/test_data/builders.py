"""Tiny datasets on disk, written by the tests themselves (never copies of real data)."""
from __future__ import annotations

import gzip
import io
import pickle
import zipfile
from pathlib import Path

import numpy as np

from dlgrade.data import cifar


def idx_bytes(array: np.ndarray) -> bytes:
    """``array`` (uint8) encoded as an IDX file."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def tiny_mnist(n_train: int = 12, n_test: int = 5, seed: int = 1) -> dict[str, np.ndarray]:
    """Random 28x28 'digits' and labels under the four canonical MNIST file names."""
    rng = np.random.default_rng(seed)
    return {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test, dtype=np.uint8),
    }


def write_mnist(folder: Path, arrays: dict[str, np.ndarray], *, gz: bool) -> Path:
    """Write ``arrays`` as IDX files (gzipped or not) into ``folder``; returns ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        data = idx_bytes(array)
        if gz:
            (folder / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)
    return folder


def tiny_images(n_per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random 3x32x32 uint8 images, ``n_per_class`` of each CIFAR-10 class, labels in class order."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(10), n_per_class)
    return rng.integers(0, 256, (len(labels), 3, 32, 32), dtype=np.uint8), labels


def write_cifar_batches(folder: Path, *, per_batch: int = 2) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """torchvision's ``cifar-10-batches-py`` layout with ``per_batch`` images per class per batch."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for i, name in enumerate((*cifar.TRAIN_BATCHES, cifar.TEST_BATCH)):
        x, y = tiny_images(per_batch, seed=10 + i)
        entry = {"batch_label": name, "labels": y.tolist(), "data": x.reshape(len(x), -1),
                 "filenames": [f"{name}_{j}.png" for j in range(len(x))]}
        (folder / name).write_bytes(pickle.dumps(entry))
        written[name] = (x, y)
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": list(cifar.CLASSES)}))
    return written


def png_bytes(image: np.ndarray) -> bytes:
    """A (3, H, W) uint8 image as PNG bytes (lossless, so pixels survive exactly)."""
    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image.transpose(1, 2, 0))).save(out, format="PNG")
    return out.getvalue()


def image_tree(n_per_class: int = 2) -> dict[str, tuple[np.ndarray, np.ndarray, list[str]]]:
    """Per split: images, labels and their relative paths ``<split>/<class>/<i>.png``."""
    tree = {}
    for seed, split in enumerate(("train", "test")):
        x, y = tiny_images(n_per_class, seed=20 + seed)
        names = [f"{split}/{cifar.CLASSES[label]}/{i:04d}.png" for i, label in enumerate(y)]
        tree[split] = (x, y, names)
    return tree


def write_tree(folder: Path, tree) -> Path:
    """Write ``tree`` (from :func:`image_tree`) as PNG files under ``folder``."""
    for x, _, names in tree.values():
        for image, name in zip(x, names):
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(png_bytes(image))
    return folder


def write_zip(path: Path, tree, *, prefix: str = "cifar10/") -> Path:
    """Write ``tree`` (from :func:`image_tree`) as PNG members under ``prefix`` in a zip."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for x, _, names in tree.values():
            for image, name in zip(x, names):
                archive.writestr(prefix + name, png_bytes(image))
    return path


def unnormalise(X, info) -> np.ndarray:
    """Normalised image tensors back to uint8 pixels, using ``info.mean``/``info.std``."""
    shape = (1, -1, 1, 1)
    pixels = (np.asarray(X) * np.array(info.std).reshape(shape) + np.array(info.mean).reshape(shape)) * 255
    return np.rint(pixels).astype(np.int64)



def train_in_file_order(data, y_file: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The train and validation splits of ``data`` put back together in the file's order.

    ``y_file`` are the training labels as written; the validation split is
    :func:`dlgrade.data._base.validation_split` of them.
    """
    from dlgrade.data._base import validation_split

    train, val = validation_split(np.asarray(y_file))
    X = np.empty((len(y_file), *data.X_train.shape[1:]), dtype=np.float32)
    y = np.empty(len(y_file), dtype=np.int64)
    X[train], y[train] = data.X_train.numpy(), data.y_train.numpy()
    X[val], y[val] = data.X_val.numpy(), data.y_val.numpy()
    return X, y
