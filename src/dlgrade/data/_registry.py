"""The datasets by name: loading, describing where each can come from, downloading."""
from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from pathlib import Path

from dlgrade.data import cifar, mnist
from dlgrade.data._base import Dataset, get_data_home
from dlgrade.data._files import FileBacked, SourceRow, fetch_into, require, scan
from dlgrade.data.cifar import load_cifar10
from dlgrade.data.mnist import load_mnist
from dlgrade.data.toy import load_moons, load_xor
from dlgrade.errors import DataError

DATASETS: dict[str, Callable[..., Dataset]] = {
    "mnist": load_mnist,
    "cifar10": load_cifar10,
    "xor": load_xor,
    "moons": load_moons,
}
"""Every dataset by name, mapped to its loader; each loader works offline with no arguments."""

DOWNLOADABLE: dict[str, FileBacked] = {"mnist": mnist.SPEC, "cifar10": cifar.SPEC}
"""The datasets read from files, which can also be downloaded."""


def _check(name: str) -> None:
    if name not in DATASETS:
        raise DataError(f"unknown dataset {name!r}: choose from {', '.join(DATASETS)}")


def load(name: str, **options) -> Dataset:
    """Load the dataset called ``name`` (a key of :data:`DATASETS`) with its loader's ``options``.

    Every loader takes ``student`` (default True: train and validation, no test
    split); only the grader's process passes ``student=False``.
    """
    _check(name)
    accepted = inspect.signature(DATASETS[name]).parameters
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise DataError(f"dataset {name} has no option {', '.join(unknown)}; "
                        f"its options are: {', '.join(accepted) or 'none'}")
    return DATASETS[name](**options)


def describe_sources(data_dir=None, data_home=None) -> list[SourceRow]:
    """For each dataset, the sources that hold it now and the one ``source="auto"`` would use.

    Nothing is read or decoded; only the presence of the expected files is checked.
    """
    rows = []
    for name, loader in DATASETS.items():
        if name in DOWNLOADABLE:
            rows.append(scan(DOWNLOADABLE[name], data_dir=data_dir, data_home=data_home))
        else:
            where = f"{loader.__module__}.{loader.__name__}"
            rows.append(SourceRow(name, (("embedded", where),), "embedded", where))
    return rows


def fetch(names: Iterable[str] | None = None, *, data_home=None) -> list[Path]:
    """Download datasets (all downloadable ones when ``names`` is empty) into the data home.

    Returns where each landed. Generated datasets (xor, moons) need no download
    and are skipped. Offline, raises one :class:`DataError` naming the folder to
    copy the files into instead.
    """
    home = get_data_home(data_home)
    chosen = list(names or DOWNLOADABLE)
    for name in chosen:
        _check(name)
    landed = []
    for name in chosen:
        if name not in DOWNLOADABLE:
            continue
        spec = DOWNLOADABLE[name]
        fetch_into(spec, home)
        landed.append(require(spec, home, home, what="the data home").location)
    return landed
