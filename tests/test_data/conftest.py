"""An isolated data home for every data test."""
from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def data_home(tmp_path, monkeypatch) -> Path:
    """Every test gets an empty data home of its own and no ``$DLGRADE_DATA``."""
    home = tmp_path / "home"
    monkeypatch.setenv("DLGRADE_DATA_HOME", str(home))
    monkeypatch.delenv("DLGRADE_DATA", raising=False)
    return home
