"""Finding an image dataset on disk: a user directory, the data-home cache, a download, or none.

Each file-backed dataset (MNIST, CIFAR-10) describes itself as a
:class:`FileBacked`; :func:`load_files` picks the source. With ``source="auto"``
the order is: the user's data directory (``data_dir`` or ``$DLGRADE_DATA``),
then the data home, then a torchvision download when ``download=True``, then the
embedded data. A data directory that was given but does not hold the data is an
error, never a silent fallback.
"""
from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.error import URLError

from dlgrade.data._base import (Dataset, DatasetInfo, ImageArrays, announce, get_data_dir, get_data_home,
                                image_dataset, log, split_sizes, splits_text)
from dlgrade.errors import DataError

SOURCE_CHOICES = ("auto", "directory", "cache", "download", "embedded")
"""Values accepted by the ``source`` argument of :func:`dlgrade.data.load_mnist` and friends."""


@dataclass(frozen=True)
class Found:
    """Image data located on disk, not read yet."""

    location: Path
    """The folder or file that holds the data."""
    layout: str
    """The layout recognised, in words (e.g. ``"IDX files"``)."""
    read: Callable[[], ImageArrays]
    """Reads the data (may decode images and cache them in the data home)."""


@dataclass(frozen=True)
class FileBacked:
    """How one image dataset is found on disk, downloaded, and replaced when absent."""

    name: str
    """Registry name, e.g. ``"mnist"``."""
    title: str
    """Name for humans, e.g. ``"MNIST"``."""
    classes: tuple[str, ...]
    """Class names of the real data."""
    input_shape: tuple[int, ...]
    """Shape of one image, (C, H, W)."""
    mean: tuple[float, ...]
    """Per-channel mean used for normalisation."""
    std: tuple[float, ...]
    """Per-channel standard deviation used for normalisation."""
    find: Callable[[Path, Path], Found | None]
    """``find(folder, data_home)``: the data in ``folder``, None when absent; raises
    :class:`DataError` for a layout that is present but incomplete or malformed."""
    expected: Callable[[Path], str]
    """``expected(folder)``: the layouts looked for in ``folder``, in words."""
    fetch: Callable[[Path], None]
    """Downloads the data into the data home with torchvision."""
    embedded: Callable[..., Dataset]
    """``embedded(student=...)`` loads the offline replacement."""
    home_folder: str = "."
    """Where, under the data home, torchvision's download puts the files."""
    offline_source: str = "embedded"
    """What the offline replacement is: ``"embedded"`` (the real data, or a
    sample of it) or ``"stand-in"`` (other data of the same shape)."""


def load_files(spec: FileBacked, *, data_dir=None, data_home=None, source: str = "auto",
               download: bool = False, student: bool = True) -> Dataset:
    """Load ``spec`` from the source chosen as described in the module docstring.

    ``student=True`` gives the student's view: train and validation, no test split.
    Inside the grading sandbox (``$DLGRADE_STUDENT_VIEWS`` set) no data file is
    visible: the student's part of the files comes from the view the grader wrote
    (see :mod:`dlgrade.data._student_view`).
    """
    if source not in SOURCE_CHOICES:
        raise DataError(f"unknown source {source!r} for {spec.name}: use one of {', '.join(SOURCE_CHOICES)}")
    views = os.environ.get(VIEWS_ENV)
    if views is not None:
        return _from_view(spec, views, source=source, student=student)
    located = locate(spec, data_dir=data_dir, data_home=data_home, source=source, download=download)
    if located is None:
        return spec.embedded(student=student)
    return _read(spec, *located, student)


def locate(spec: FileBacked, *, data_dir=None, data_home=None, source: str = "auto",
           download: bool = False) -> tuple[Found, str] | None:
    """The files :func:`load_files` reads and their source ("directory", "cache", "download"), or None
    for the embedded data; downloads when the choice says so."""
    if source == "embedded":
        return None
    home = get_data_home(data_home)
    if source == "cache":
        return require(spec, home, home, what="the data home"), "cache"
    if source == "download":
        fetch_into(spec, home)
        return require(spec, home, home, what="the data home"), "download"
    folder = get_data_dir(data_dir)
    if source == "directory" or folder is not None:
        if folder is None:
            raise DataError(f"source='directory' needs a data directory for {spec.title}",
                            hint="pass --data-dir DIR (data_dir=...) or set DLGRADE_DATA")
        return require(spec, folder, home, what="the data directory"), "directory"
    found = spec.find(home, home) if home.is_dir() else None
    if found is not None:
        return found, "cache"
    if download:
        fetch_into(spec, home)
        return require(spec, home, home, what="the data home"), "download"
    return None


VIEWS_ENV = "DLGRADE_STUDENT_VIEWS"
"""Set in the grading sandbox: a JSON object mapping dataset names to the student views written for it
(possibly empty), the only data files it sees."""


_SHARED: dict[tuple[str, str], Dataset] = {}
_sharing = False


@contextlib.contextmanager
def shared_views() -> Iterator[None]:
    """While open, what the grading sandbox loads from its views is kept, for this process and the processes it
    forks later: the grading worker opens it while it preloads the profile's datasets, once per batch.

    A submission's process then gets a kept dataset as a copy of its tensors (:func:`_kept`): the same
    numbers as reading and normalising the view again, which for the CIFAR-10 stand-in took 56 ms of every
    notebook's first cell. Nothing is kept outside the sandbox, where a student's kernel loads afresh.
    """
    global _sharing
    _sharing = True
    try:
        yield
    finally:
        _sharing = False


def _kept(spec: FileBacked, where: str, read: Callable[[], Dataset]) -> Dataset:
    """The student part of ``spec`` read from ``where`` (a view's path, or "embedded"): kept while
    :func:`shared_views` is open, copied out of what was kept otherwise, read afresh when nothing was."""
    key = (spec.name, where)
    kept = _SHARED.get(key)
    if kept is None:
        data = read()
        if _sharing:
            _SHARED[key] = data
        return data
    if _sharing:
        return kept
    announce(kept.info)
    return dataclasses.replace(kept, X_train=kept.X_train.clone(), y_train=kept.y_train.clone(),
                               X_val=kept.X_val.clone(), y_val=kept.y_val.clone())


def _from_view(spec: FileBacked, views: str, *, source: str, student: bool) -> Dataset:
    from dlgrade.data._student_view import read_files_view

    if not student:
        raise DataError(f"{spec.title}'s test split stays with the grader: the grading sandbox loads the "
                        "train and validation splits only", hint="leave out student=False")
    def embedded() -> Dataset:
        return _kept(spec, "embedded", lambda: spec.embedded(student=True))

    if source == "embedded":
        return embedded()
    try:
        paths = json.loads(views)
    except ValueError:
        paths = None
    if not isinstance(paths, dict):
        raise DataError(f"${VIEWS_ENV} is not a JSON object of dataset views")
    if isinstance(paths.get(spec.name), str):
        path = paths[spec.name]

        def from_file() -> Dataset:
            arrays, found, origin = read_files_view(path)
            return _read(spec, found, origin, True, arrays=arrays)

        return _kept(spec, path, from_file)
    if source == "auto":
        return embedded()
    raise DataError(f"{spec.title} from the {source} is not available while grading: the sandbox holds only "
                    "the data of the exercise's profile", hint="load it with the options the exercise gives")


def require(spec: FileBacked, folder: Path, home: Path, *, what: str) -> Found:
    """The data in ``folder``, or a :class:`DataError` naming the layouts expected there."""
    if not folder.exists():
        raise DataError(f"{what} {folder} does not exist (looking for {spec.title})")
    found = spec.find(folder, home)
    if found is None:
        if folder == home:
            hint = (f"run `dlgrade data fetch {spec.name}` where there is internet, "
                    f"or copy the files into {home / spec.home_folder}")
        else:
            hint = (f"point --data-dir (or DLGRADE_DATA) at the folder that holds the files, "
                    f"or leave it out to use the {spec.offline_source} data")
        raise DataError(f"no {spec.title} in {folder}: expected {spec.expected(folder)}", hint=hint)
    return found


def _read(spec: FileBacked, found: Found, source: str, student: bool, *, arrays: ImageArrays | None = None) -> Dataset:
    arrays = found.read() if arrays is None else arrays
    n_train, n_val, n_test = split_sizes(arrays)
    where = {"directory": f"read from {found.layout} in {found.location}",
             "cache": f"read from {found.layout} in the data home ({found.location})",
             "download": f"downloaded by torchvision, read from {found.layout} in {found.location}"}[source]
    info = DatasetInfo(
        name=spec.name, source=source, location=str(found.location),
        description=(f"{n_train + n_val + n_test:,} real {spec.title} images "
                     f"({splits_text(n_train, n_val, n_test)}) {where}"),
        n_train=n_train, n_val=n_val, n_test=n_test, input_shape=spec.input_shape, classes=spec.classes,
        mean=spec.mean, std=spec.std,
    )
    return image_dataset(arrays, info, student=student)


def fetch_into(spec: FileBacked, home: Path) -> Path:
    """Download ``spec`` into ``home`` with torchvision; a one-line :class:`DataError` when offline."""
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create the data home {home}: {exc.strerror or exc}") from exc
    chatter = io.StringIO()  # some torchvision versions print progress and failed mirrors to stdout
    try:
        with contextlib.redirect_stdout(chatter):
            spec.fetch(home)
    except (URLError, OSError, RuntimeError) as exc:
        raise DataError(
            f"could not download {spec.title} from torchvision's mirrors: {reason(exc)}; "
            f"copy the files into {home / spec.home_folder} or use --data-dir",
            hint=f"expected in {home}: {spec.expected(home)}") from exc
    finally:
        for line in chatter.getvalue().splitlines():
            if line.strip():
                log.debug("torchvision: %s", line)
    return home


def reason(exc: BaseException) -> str:
    """The gist of a download failure, on one line.

    torchvision raises URLError (CIFAR-10) or a RuntimeError listing every mirror
    it tried (MNIST); the last line of the latter is the last mirror's error.
    """
    if isinstance(exc, URLError):
        text = str(exc.reason)
    else:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        text = lines[-1] if lines else ""
    if text.startswith("<urlopen error ") and text.endswith(">"):
        text = text[len("<urlopen error "):-1]
    return " ".join(text.split()) or type(exc).__name__


@dataclass(frozen=True)
class SourceRow:
    """Where one dataset can be read from now: a row of ``dlgrade data info``."""

    name: str
    """Registry name of the dataset."""
    available: tuple[tuple[str, str], ...]
    """``(source, location)`` for each source that holds the data now, in the
    order ``source="auto"`` tries them (a download is never listed: it needs
    ``download=True`` and a network)."""
    auto: str
    """The source ``source="auto"`` would use, or ``"error"`` when it would fail."""
    location: str
    """Where ``source="auto"`` would read from, or why it would fail."""


def scan(spec: FileBacked, *, data_dir=None, data_home=None) -> SourceRow:
    """Which sources can serve ``spec`` now, without reading the data."""
    home = get_data_home(data_home)
    folder = get_data_dir(data_dir)
    available: list[tuple[str, str]] = []
    failure = None  # why source="auto" would fail
    if folder is not None:
        try:
            available.append(("directory", str(require(spec, folder, home, what="the data directory").location)))
        except DataError as exc:
            failure = str(exc)
    try:
        cached = spec.find(home, home) if home.is_dir() else None
    except DataError as exc:
        cached = None
        if folder is None:
            failure = str(exc)
    if cached is not None:
        available.append(("cache", str(cached.location)))
    available.append((spec.offline_source, "built in"))
    if failure is not None:
        return SourceRow(spec.name, tuple(available), "error", failure)
    return SourceRow(spec.name, tuple(available), *available[0])
