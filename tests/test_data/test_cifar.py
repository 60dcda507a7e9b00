"""CIFAR-10: pickled batches, image-folder trees, zips, the decoded-image cache, the real subset."""
from __future__ import annotations

import os
import time

import numpy as np
import pytest

from dlgrade.data import _imagefolder, cifar, load_cifar10
from dlgrade.errors import DataError

from .builders import image_tree, train_in_file_order, unnormalise, write_cifar_batches, write_tree, write_zip


def _pixels(data, y_file):
    X, y = train_in_file_order(data, y_file)
    assert y.tolist() == np.asarray(y_file).tolist()
    return unnormalise(X, data.info), unnormalise(data.X_test, data.info)


@pytest.mark.parametrize("sub", ["cifar-10-batches-py", "."], ids=["torchvision", "flat"])
def test_pickled_batches(tmp_path, sub):
    """Are torchvision's pickled batches read in order, five train batches then the test batch, pixel-exact?"""
    written = write_cifar_batches(tmp_path / sub)
    data = load_cifar10(data_dir=tmp_path, student=False)
    x_train = np.concatenate([written[name][0] for name in cifar.TRAIN_BATCHES])
    y_train = np.concatenate([written[name][1] for name in cifar.TRAIN_BATCHES])
    train, test = _pixels(data, y_train)
    assert data.info.source == "directory" and data.info.classes == cifar.CLASSES
    assert np.array_equal(train, x_train)
    assert np.array_equal(test, written["test_batch"][0])
    assert data.y_test.tolist() == written["test_batch"][1].tolist()


def test_incomplete_batches_name_the_missing_ones(tmp_path):
    """Is a batches folder missing a batch an error naming it?"""
    write_cifar_batches(tmp_path / "cifar-10-batches-py")
    (tmp_path / "cifar-10-batches-py" / "data_batch_3").unlink()
    with pytest.raises(DataError, match="missing data_batch_3"):
        load_cifar10(data_dir=tmp_path)


def test_a_batch_that_is_not_a_batch_is_named(tmp_path):
    """Is a corrupt batch file reported with its path rather than as a pickle traceback?"""
    write_cifar_batches(tmp_path / "cifar-10-batches-py")
    (tmp_path / "cifar-10-batches-py" / "test_batch").write_bytes(b"garbage")
    with pytest.raises(DataError, match="test_batch is not a CIFAR-10 python batch"):
        load_cifar10(data_dir=tmp_path)


@pytest.mark.parametrize("sub", [".", "cifar10"])
def test_image_folder_tree(tmp_path, sub):
    """Is train/<class>/*.png, test/<class>/* read with labels from the folder names and exact pixels?"""
    tree = image_tree()
    write_tree(tmp_path / sub, tree)
    data = load_cifar10(data_dir=tmp_path, student=False)
    train, test = _pixels(data, tree["train"][1])
    assert data.info.location == str(tmp_path / sub)
    assert np.array_equal(train, tree["train"][0])
    assert np.array_equal(test, tree["test"][0]) and data.y_test.tolist() == tree["test"][1].tolist()


@pytest.mark.parametrize("prefix", ["", "cifar10/"])
@pytest.mark.parametrize("point_at", ["zip", "folder"])
def test_zip_of_image_folders(tmp_path, prefix, point_at):
    """Is a zip holding the tree (at its top or under one folder) read, given as the file or found in the folder?"""
    tree = image_tree()
    archive = write_zip(tmp_path / "data" / "cifar10" / "subset.zip", tree, prefix=prefix)
    data = load_cifar10(data_dir=archive if point_at == "zip" else tmp_path / "data", student=False)
    train, test = _pixels(data, tree["train"][1])
    assert data.info.location == str(archive) and "zip" in data.info.description
    assert np.array_equal(train, tree["train"][0]) and np.array_equal(test, tree["test"][0])
    assert data.y_test.tolist() == tree["test"][1].tolist()


def test_decoded_images_are_cached_and_reused(tmp_path, data_home, monkeypatch):
    """Is a decoded zip cached in the data home, and is the second load served from it, bitwise equal?"""
    archive = write_zip(tmp_path / "subset.zip", image_tree())
    first = load_cifar10(data_dir=archive, student=False)
    assert len(list((data_home / "decoded").glob("cifar10-*.npz"))) == 1

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded again despite the cache")

    monkeypatch.setattr(_imagefolder, "_decode", no_decoding)
    second = load_cifar10(data_dir=archive, student=False)
    assert np.array_equal(first.X_train.numpy(), second.X_train.numpy())
    assert np.array_equal(first.y_test.numpy(), second.y_test.numpy())


def test_cache_is_keyed_by_the_source_file(tmp_path, data_home):
    """Does changing the zip (size or time) give a new cache entry rather than stale images?"""
    archive = write_zip(tmp_path / "subset.zip", image_tree(1))
    load_cifar10(data_dir=archive)
    write_zip(tmp_path / "subset.zip", image_tree(2))
    os.utime(archive, ns=(time.time_ns(), time.time_ns() + 10**9))
    data = load_cifar10(data_dir=archive)
    assert data.info.n_train + data.info.n_val == 20
    assert len(list((data_home / "decoded").glob("cifar10-*.npz"))) == 2


def test_unwritable_data_home_still_loads(tmp_path, monkeypatch):
    """When the data home cannot be written, is the tree still decoded and returned?"""
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("")
    monkeypatch.setenv("DLGRADE_DATA_HOME", str(blocker))
    data = load_cifar10(data_dir=write_zip(tmp_path / "subset.zip", image_tree(1)))
    assert data.info.n_test == 10


def test_wrong_class_folders_are_named(tmp_path):
    """Is a tree whose class folders are not CIFAR-10's an error listing what was found and expected?"""
    tree = image_tree(1)
    write_tree(tmp_path, tree)
    (tmp_path / "train" / "cat").rename(tmp_path / "train" / "kitten")
    with pytest.raises(DataError, match=r"train has class folders .*kitten.*expected one folder per class"):
        load_cifar10(data_dir=tmp_path)


def test_images_of_the_wrong_size_are_named(tmp_path):
    """Is an image that is not 32x32 an error naming the file?"""
    from PIL import Image

    write_tree(tmp_path, image_tree(1))
    Image.new("RGB", (64, 64)).save(tmp_path / "test" / "dog" / "0005.png")
    with pytest.raises(DataError, match=r"0005.png is 64x64 pixels; expected 32x32"):
        load_cifar10(data_dir=tmp_path)


def test_zip_without_a_tree_is_named(tmp_path):
    """Is a zip given as data_dir that holds no train/test tree an error naming the zip?"""
    import zipfile

    archive = tmp_path / "other.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("readme.txt", "hello")
    with pytest.raises(DataError, match=f"{archive} holds no image-folder tree"):
        load_cifar10(data_dir=archive)


def test_wrong_directory_lists_the_expected_layouts(tmp_path):
    """Is a data_dir without CIFAR-10 an error naming the folder and all three layouts?"""
    with pytest.raises(DataError) as caught:
        load_cifar10(data_dir=tmp_path)
    message = str(caught.value)
    assert f"no CIFAR-10 in {tmp_path}" in message
    for layout in ("cifar-10-batches-py", "train/<class>", ".zip"):
        assert layout in message


@pytest.mark.shared_data
def test_real_subset_from_the_shared_zip(shared_data, data_home):
    """Does the shared JPEG subset load as 25000/10000 balanced real CIFAR-10, the same again from the cache?"""
    data = load_cifar10(data_dir=shared_data, student=False)
    assert data.info.source == "directory" and data.info.location.endswith("cifar10-jpg-subset.zip")
    assert (data.info.n_train, data.info.n_val, data.info.n_test) == (22500, 2500, 10000)
    assert np.bincount(data.y_train.numpy()).tolist() == [2250] * 10
    assert np.bincount(data.y_val.numpy()).tolist() == [250] * 10
    assert np.bincount(data.y_test.numpy()).tolist() == [1000] * 10
    means = data.X_train.mean(dim=(0, 2, 3))
    assert means.abs().max() < 0.05  # CIFAR-10's statistics fit the real images
    again = load_cifar10(data_dir=shared_data, student=False)
    assert np.array_equal(data.X_test.numpy(), again.X_test.numpy())
