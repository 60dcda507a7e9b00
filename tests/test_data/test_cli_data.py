"""``dlgrade data info`` and ``dlgrade data fetch``: thin wrappers that print, or fail in one line."""
from __future__ import annotations

import sys
import urllib.error
import urllib.request

import pytest
from typer.testing import CliRunner

from dlgrade import cli
from dlgrade.errors import DataError

from .builders import tiny_mnist, write_mnist


@pytest.fixture(scope="module")
def app():
    cli._register()
    return cli.app


def test_info_lists_every_dataset_and_its_default_source(app, tmp_path):
    """Does `data info` show each dataset with the source auto would use?"""
    write_mnist(tmp_path, tiny_mnist(), gz=True)
    result = CliRunner().invoke(app, ["data", "info", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for name, source in (("mnist", "directory"), ("cifar10", "error"), ("xor", "embedded"), ("moons", "embedded")):
        assert any(f" {name} " in line and source in line for line in lines), (name, result.output)


def test_info_names_the_folders(app, tmp_path):
    """Does `data info` report the data home and data directory it looked in?"""
    home, mine = tmp_path / "h", tmp_path / "mine"
    mine.mkdir()
    result = CliRunner().invoke(app, ["data", "info", "--data-home", str(home), "--data-dir", str(mine)])
    assert result.exit_code == 0
    assert f"data home: {home}\n" in result.output and f"data directory: {mine}\n" in result.output


@pytest.mark.parametrize("kind", ["missing", "file"])
def test_info_says_when_the_data_directory_is_not_a_folder(app, tmp_path, kind):
    """A typo in --data-dir falls back to other sources: does `data info` say that nothing is read from it?"""
    mine = tmp_path / "mine"
    if kind == "file":
        mine.write_text("not a folder")
    result = CliRunner().invoke(app, ["data", "info", "--data-dir", str(mine)])
    assert result.exit_code == 0
    said = "not a folder" if kind == "file" else "does not exist"
    assert f"data directory: {mine} ({said}: nothing is read from it)" in result.output


def test_fetch_offline_raises_the_data_error(app, monkeypatch):
    """Does `data fetch mnist` offline end in the library's DataError (which main prints as one line)?"""
    def refuse(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    result = CliRunner().invoke(app, ["data", "fetch", "mnist"])
    assert isinstance(result.exception, DataError)
    assert "could not download MNIST" in str(result.exception)


def test_main_prints_one_line_not_a_traceback(monkeypatch, capsys):
    """Through the console entry point, is an offline fetch one error line and exit status 2?"""
    def refuse(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setattr(sys, "argv", ["dlgrade", "data", "fetch", "cifar10"])
    with pytest.raises(SystemExit) as caught:
        cli.main()
    err = capsys.readouterr().err
    assert caught.value.code == 2
    assert "could not download CIFAR-10" in err and "Traceback" not in err


def test_fetch_unknown_name_is_refused(app):
    """Does `data fetch` with a wrong name fail naming it?"""
    result = CliRunner().invoke(app, ["data", "fetch", "imagenet"])
    assert isinstance(result.exception, DataError) and "imagenet" in str(result.exception)
