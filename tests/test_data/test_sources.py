"""Choosing the source: directory, cache, download, embedded; offline errors; describe_sources; fetch."""
from __future__ import annotations

import urllib.error
import urllib.request

import pytest
import torchvision.datasets

from dlgrade.data import describe_sources, fetch, load, load_cifar10, load_mnist
from dlgrade.errors import DataError

from .builders import tiny_mnist, write_mnist

OFFLINE = urllib.error.URLError(OSError(-3, "Temporary failure in name resolution"))


@pytest.fixture
def offline(monkeypatch):
    """No network: every URL torchvision opens fails as it does without DNS."""
    def refuse(*args, **kwargs):
        raise OFFLINE

    monkeypatch.setattr(urllib.request, "urlopen", refuse)


@pytest.fixture
def fake_mnist_download(monkeypatch):
    """torchvision.datasets.MNIST whose download writes tiny IDX files where torchvision would."""
    calls = []

    class FakeMNIST:
        def __init__(self, root, train=True, download=False):
            calls.append((root, download))
            from pathlib import Path

            write_mnist(Path(root) / "MNIST" / "raw", tiny_mnist(), gz=False)

    monkeypatch.setattr(torchvision.datasets, "MNIST", FakeMNIST)
    return calls


def test_directory_comes_before_cache(tmp_path, data_home):
    """With data in both the data directory and the data home, is the directory used?"""
    write_mnist(data_home / "MNIST" / "raw", tiny_mnist(n_train=7), gz=True)
    write_mnist(tmp_path / "mine", tiny_mnist(n_train=9), gz=True)
    data = load_mnist(data_dir=tmp_path / "mine")
    assert data.info.source == "directory" and data.info.n_train + data.info.n_val == 9


def test_cache_comes_before_embedded(data_home):
    """With data only in the data home, is it used instead of the embedded digits?"""
    write_mnist(data_home / "MNIST" / "raw", tiny_mnist(n_train=7), gz=True)
    data = load_mnist()
    assert data.info.source == "cache" and data.info.n_train + data.info.n_val == 7
    assert "data home" in data.info.description


def test_forced_embedded_ignores_the_directory(tmp_path):
    """Does source='embedded' use the embedded data even when a data directory is given?"""
    write_mnist(tmp_path, tiny_mnist(), gz=True)
    assert load_mnist(data_dir=tmp_path, source="embedded").info.source == "embedded"


def test_forced_cache_without_cache_is_an_error(data_home):
    """Does source='cache' with an empty data home fail naming the data home, not fall back?"""
    data_home.mkdir()
    with pytest.raises(DataError, match=f"no MNIST in {data_home}"):
        load_mnist(source="cache")


def test_forced_directory_needs_a_directory():
    """Does source='directory' without data_dir or $DLGRADE_DATA say how to give one?"""
    with pytest.raises(DataError, match="needs a data directory") as caught:
        load_mnist(source="directory")
    assert "DLGRADE_DATA" in caught.value.hint


def test_unknown_source_lists_the_choices():
    """Is a misspelt source an error listing the valid ones?"""
    with pytest.raises(DataError, match="auto, directory, cache, download, embedded"):
        load_cifar10(source="internet")


def test_unknown_dataset_lists_the_names():
    """Is an unknown dataset name an error listing the registered ones?"""
    with pytest.raises(DataError, match="mnist, cifar10, xor, moons"):
        load("imagenet")


def test_unknown_option_lists_the_accepted_ones():
    """Is an option the loader does not take (say, from a spec file) named with the accepted ones?"""
    with pytest.raises(DataError, match="dataset xor has no option data_dir; its options are: student"):
        load("xor", data_dir="/data")
    with pytest.raises(DataError, match="n_samples, noise, seed, test_size"):
        load("moons", samples=10)


def test_download_goes_through_torchvision_into_the_data_home(data_home, fake_mnist_download):
    """Does download=True call torchvision's MNIST with the data home as root, then read what it wrote?"""
    data = load_mnist(download=True)
    assert fake_mnist_download == [(str(data_home), True)]
    assert data.info.source == "download" and data.info.n_train + data.info.n_val == 12
    assert load_mnist().info.source == "cache"  # and it stays there


@pytest.mark.parametrize("loader, title, folder", [(load_mnist, "MNIST", "MNIST/raw"),
                                                    (load_cifar10, "CIFAR-10", "cifar-10-batches-py")])
def test_offline_download_is_one_clear_error(loader, title, folder, data_home, offline):
    """Offline, does a requested download fail with one line naming the reason and where to copy the files?"""
    with pytest.raises(DataError) as caught:
        loader(download=True)
    message = str(caught.value)
    assert message.startswith(f"could not download {title} from torchvision's mirrors: ")
    assert "Temporary failure in name resolution" in message
    assert f"copy the files into {data_home / folder} or use --data-dir" in message
    assert "\n" not in message and "Traceback" not in message


def test_offline_without_download_uses_embedded(offline):
    """Offline and without download=True, is nothing fetched and the embedded data used?"""
    assert load_mnist().info.source == "embedded"


def test_describe_sources_reports_what_auto_would_use(tmp_path, data_home):
    """Does describe_sources list the sources present and the one auto would pick, per dataset?"""
    write_mnist(data_home / "MNIST" / "raw", tiny_mnist(), gz=True)
    rows = {row.name: row for row in describe_sources()}
    assert set(rows) == {"mnist", "cifar10", "xor", "moons"}
    assert [source for source, _ in rows["mnist"].available] == ["cache", "embedded"]
    assert rows["mnist"].auto == "cache" and rows["mnist"].location == str(data_home / "MNIST" / "raw")
    assert rows["cifar10"].auto == "stand-in"
    assert rows["xor"].auto == "embedded"


def test_describe_sources_flags_a_wrong_directory(tmp_path):
    """With a data directory that lacks a dataset, does its row say auto would fail, and why?"""
    write_mnist(tmp_path, tiny_mnist(), gz=True)
    rows = {row.name: row for row in describe_sources(data_dir=tmp_path)}
    assert rows["mnist"].auto == "directory"
    assert rows["cifar10"].auto == "error" and "no CIFAR-10 in" in rows["cifar10"].location


def test_describe_sources_matches_what_load_does(tmp_path, data_home):
    """Is the source describe_sources predicts the one the loader then reports?"""
    write_mnist(data_home / "MNIST" / "raw", tiny_mnist(), gz=True)
    for row in describe_sources():
        assert load(row.name).info.source == row.auto


def test_fetch_offline_is_one_clear_error(offline):
    """Does fetch fail offline with a one-line DataError rather than a urllib traceback?"""
    with pytest.raises(DataError, match="could not download MNIST from torchvision's mirrors"):
        fetch(["mnist"])


def test_fetch_rejects_unknown_names_before_downloading(fake_mnist_download):
    """Is an unknown name refused before any download starts?"""
    with pytest.raises(DataError, match="unknown dataset 'mnits'"):
        fetch(["mnist", "mnits"])
    assert fake_mnist_download == []


def test_fetch_returns_where_the_data_landed(data_home, fake_mnist_download):
    """Does fetch return the folder the data is now in, skipping generated datasets?"""
    assert fetch(["mnist", "xor"]) == [data_home / "MNIST" / "raw"]
