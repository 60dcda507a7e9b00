"""Image-folder trees (``train/<class>/*.png``, ``test/<class>/*``), on disk or in a .zip.

Decoding tens of thousands of small JPEGs takes a while, so the decoded uint8
arrays are kept in ``<data home>/decoded/`` under a key made from the source's
path, sizes and modification times; the next load reads them back in a blink.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from dlgrade.data._base import ImageArrays, log
from dlgrade.errors import DataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
SPLITS = ("train", "test")
CACHE_VERSION = "1"


def find_tree(folder: Path, subfolders: tuple[str, ...]) -> Path | None:
    """The first of ``folder`` and ``folder/<sub>`` that holds ``train/`` and ``test/`` folders."""
    for root in (folder, *(folder / sub for sub in subfolders)):
        if all((root / split).is_dir() for split in SPLITS):
            return root
    return None


def zip_prefix(path: Path) -> str | None:
    """The folder inside the zip at ``path`` that holds ``train/`` and ``test/``, or None."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (OSError, zipfile.BadZipFile):
        return None
    roots: dict[str, set[str]] = {}
    for name in names:
        parts = name.split("/")
        for i, part in enumerate(parts[:-2]):
            if part in SPLITS:
                roots.setdefault("/".join(parts[:i]), set()).add(part)
                break
    for root in sorted(roots, key=len):
        if roots[root] == set(SPLITS):
            return root + "/" if root else ""
    return None


def _tree_members(root: Path) -> list[tuple[str, str, Path]]:
    members = []
    for split in SPLITS:
        for class_dir in sorted(p for p in (root / split).iterdir() if p.is_dir()):
            for file in sorted(class_dir.iterdir()):
                if file.suffix.lower() in IMAGE_SUFFIXES:
                    members.append((split, class_dir.name, file))
    return members


def _zip_members(names: list[str], prefix: str) -> list[tuple[str, str, str]]:
    members = []
    for name in sorted(names):
        if not name.startswith(prefix):
            continue
        parts = name[len(prefix):].split("/")
        if len(parts) == 3 and parts[0] in SPLITS and Path(parts[2]).suffix.lower() in IMAGE_SUFFIXES:
            members.append((parts[0], parts[1], name))
    return members


def read_tree(root: Path, *, classes: tuple[str, ...], shape: tuple[int, int, int],
              data_home: Path, name: str) -> ImageArrays:
    """Decode the image-folder tree at ``root`` (cached in ``data_home``)."""
    members = _tree_members(root)
    stamp = "\n".join(f"{split}/{cls}/{path.name} {path.stat().st_size} {path.stat().st_mtime_ns}"
                      for split, cls, path in members)
    key = _key(f"{root.resolve()}\n{stamp}")
    return _cached(data_home, name, key, lambda: _decode(
        [(s, c, lambda p=p: p.read_bytes(), p) for s, c, p in members], f"{root}/", classes, shape))


def read_zip(path: Path, prefix: str, *, classes: tuple[str, ...], shape: tuple[int, int, int],
             data_home: Path, name: str) -> ImageArrays:
    """Decode the image-folder tree under ``prefix`` in the zip at ``path`` (cached in ``data_home``)."""
    stat = path.stat()
    key = _key(f"{path.resolve()}\n{stat.st_size}\n{stat.st_mtime_ns}\n{prefix}")

    def decode() -> ImageArrays:
        with zipfile.ZipFile(path) as archive:
            members = _zip_members(archive.namelist(), prefix)
            return _decode([(s, c, lambda m=m: archive.read(m), f"{path}:{m}") for s, c, m in members],
                           f"{path}:{prefix}", classes, shape)  # prefix is "" or ends in "/"

    return _cached(data_home, name, key, decode)


def _decode(members: list[tuple[str, str, Callable[[], bytes], object]], where: str,
            classes: tuple[str, ...], shape: tuple[int, int, int]) -> ImageArrays:
    """Decode ``(split, class, read_bytes, label)`` members; ``where`` prefixes split names in errors."""
    from PIL import Image, UnidentifiedImageError

    found = {split: sorted({cls for s, cls, *_ in members if s == split}) for split in SPLITS}
    for split in SPLITS:
        if tuple(found[split]) != tuple(sorted(classes)):
            raise DataError(f"{where}{split} has class folders {', '.join(found[split]) or 'none'}; "
                            f"expected one folder per class: {', '.join(sorted(classes))}")
    index = {cls: i for i, cls in enumerate(classes)}
    channels, height, width = shape
    mode = "RGB" if channels == 3 else "L"
    out = {}
    for split in SPLITS:
        chosen = [m for m in members if m[0] == split]
        x = np.empty((len(chosen), height, width, channels), dtype=np.uint8)
        y = np.empty(len(chosen), dtype=np.int64)
        for i, (_, cls, read, label) in enumerate(chosen):
            try:
                with Image.open(io.BytesIO(read())) as image:
                    pixels = np.asarray(image.convert(mode), dtype=np.uint8)
            except (OSError, UnidentifiedImageError) as exc:
                raise DataError(f"cannot decode image {label}: {exc}") from exc
            if pixels.shape[:2] != (height, width):
                raise DataError(f"{label} is {pixels.shape[1]}x{pixels.shape[0]} pixels; "
                                f"expected {width}x{height}")
            x[i] = pixels.reshape(height, width, channels)
            y[i] = index[cls]
        out[split] = (np.ascontiguousarray(x.transpose(0, 3, 1, 2)), y)
    return ImageArrays(x_train=out["train"][0], y_train=out["train"][1],
                       x_test=out["test"][0], y_test=out["test"][1])


def _key(text: str) -> str:
    return hashlib.sha256(f"v{CACHE_VERSION}\n{text}".encode()).hexdigest()[:16]


def _cached(data_home: Path, name: str, key: str, decode: Callable[[], ImageArrays]) -> ImageArrays:
    """Read decoded arrays from ``data_home/decoded`` or decode and store them there."""
    path = data_home / "decoded" / f"{name}-{key}.npz"
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as saved:
                arrays = ImageArrays(**{field: saved[field] for field in ("x_train", "y_train", "x_test", "y_test")})
            log.debug("read decoded images from %s", path)
            return arrays
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            log.info("ignoring unreadable cache %s (%s); decoding again", path, exc)
    arrays = decode()
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(partial, "wb") as handle:
            np.savez(handle, x_train=arrays.x_train, y_train=arrays.y_train,
                     x_test=arrays.x_test, y_test=arrays.y_test)
        os.replace(partial, path)
        log.info("decoded %d images; cached them in %s", len(arrays.y_train) + len(arrays.y_test), path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            partial.unlink()
        log.info("could not cache decoded images in %s (%s); the next load decodes again", path, exc)
    return arrays
