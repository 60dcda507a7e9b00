"""The shared pieces: data home and data directory resolution, normalisation, the dataclasses."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from dlgrade.data import get_data_dir, get_data_home, load_xor
from dlgrade.data._base import normalise_images


def test_data_home_argument_beats_environment(tmp_path, monkeypatch):
    """Does an explicit data_home win over $DLGRADE_DATA_HOME?"""
    monkeypatch.setenv("DLGRADE_DATA_HOME", str(tmp_path / "env"))
    assert get_data_home(tmp_path / "arg") == tmp_path / "arg"


def test_data_home_from_environment(tmp_path, monkeypatch):
    """Without an argument, is $DLGRADE_DATA_HOME used?"""
    monkeypatch.setenv("DLGRADE_DATA_HOME", str(tmp_path / "env"))
    assert get_data_home() == tmp_path / "env"


def test_data_home_default_is_in_the_home_folder(monkeypatch, tmp_path):
    """With neither, is it ~/dlgrade_data (expanded), and not created just by asking?"""
    monkeypatch.delenv("DLGRADE_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert get_data_home() == tmp_path / "dlgrade_data"
    assert not (tmp_path / "dlgrade_data").exists()


def test_data_dir_from_argument_then_environment(tmp_path, monkeypatch):
    """Is data_dir the argument, else $DLGRADE_DATA, else None?"""
    assert get_data_dir() is None
    monkeypatch.setenv("DLGRADE_DATA", str(tmp_path / "env"))
    assert get_data_dir() == tmp_path / "env"
    assert get_data_dir(str(tmp_path / "arg")) == tmp_path / "arg"


def test_normalisation_matches_torchvision():
    """Does uint8 -> float normalisation agree with torchvision's ToTensor + Normalize (the oracle)?"""
    from torchvision.transforms import Normalize

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (4, 3, 5, 6), dtype=np.uint8)
    mean, std = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)
    expected = Normalize(mean, std)(torch.from_numpy(x).float() / 255)
    got = normalise_images(x, mean, std)
    assert got.dtype == torch.float32
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-6)


def test_normalisation_accepts_read_only_arrays():
    """Can read-only arrays (np.frombuffer, cached arrays) be normalised without touching them?"""
    x = np.frombuffer(bytes(range(16)), dtype=np.uint8).reshape(1, 1, 4, 4)
    out = normalise_images(x, (0.0,), (1.0,))
    assert torch.equal(out, torch.arange(16, dtype=torch.float32).reshape(1, 1, 4, 4) / 255)


def test_dataset_and_info_are_frozen():
    """Are Dataset and DatasetInfo immutable, so a cached dataset cannot be changed by accident?"""
    data = load_xor()
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.X_train = None
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.info.n_train = 0


def test_paths_are_path_objects(tmp_path):
    """Are string arguments returned as Path objects with ~ expanded?"""
    assert isinstance(get_data_home(str(tmp_path)), Path)
    assert "~" not in str(get_data_home("~/x"))
