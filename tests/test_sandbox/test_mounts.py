"""Held-out data files inside installed packages: masked in the sandbox's view of the file system."""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import dlgrade.data
from dlgrade.sandbox import bwrap, mounts
from dlgrade.sandbox.exchange import make_exchange

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "test_grade"))
from sandbox_required import require_sandbox  # noqa: E402


@pytest.fixture()
def package(tmp_path) -> Path:
    """An installed package's folder holding a held-out data file and an ordinary one."""
    folder = tmp_path / "site-packages" / "pkg"
    folder.mkdir(parents=True)
    (folder / "heldout.bin").write_text("SECRET-digits")
    (folder / "other.txt").write_text("fine")
    return folder


@pytest.fixture()
def exchange():
    box, empty = make_exchange(on_shm=False)
    yield box, empty
    shutil.rmtree(box.parent)


def _masked(m: mounts.Mounts) -> list[str]:
    return [m.args[i + 2] for i, a in enumerate(m.args[:-2]) if a == "--ro-bind" and m.args[i + 1] == "/dev/null"]


def test_listed_data_files_are_bound_over_with_dev_null(package, exchange, tmp_path):
    """Is /dev/null bound read-only over each listed file the sandbox would see, and only those (not a
    missing file, nor one outside every visible folder), before the sandbox's root is made read-only?"""
    outside = tmp_path / "elsewhere.bin"
    outside.write_text("x")
    box, empty = exchange
    m = mounts.plan_mounts(visible=[package.parent], hidden=[], box=box, empty=empty, tmp_bytes=1 << 20,
                           masked_files=[package / "heldout.bin", package / "gone.bin", outside])
    assert _masked(m) == [str(package / "heldout.bin")]
    assert str(package / "heldout.bin") in m.hidden
    assert m.args.index("/dev/null") < len(m.args) - m.args[::-1].index("--remount-ro")


def test_the_list_comes_from_dlgrade_data_when_it_has_one(package, exchange, monkeypatch):
    """Does the view ask ``dlgrade.data.sandbox_masked_files()`` by default, and work the same without it?"""
    box, empty = exchange
    plan = dict(visible=[package.parent], hidden=[], box=box, empty=empty, tmp_bytes=1 << 20)
    monkeypatch.setattr(dlgrade.data, "sandbox_masked_files", lambda: [package / "heldout.bin"], raising=False)
    assert _masked(mounts.plan_mounts(**plan)) == [str(package / "heldout.bin")]
    monkeypatch.delattr(dlgrade.data, "sandbox_masked_files", raising=False)
    assert _masked(mounts.plan_mounts(**plan)) == []


def test_a_masked_file_cannot_be_read_inside_the_sandbox(package, exchange):
    """Inside a real bubblewrap sandbox with that view, does the held-out file give nothing (the
    device bound over it cannot even be opened) while its neighbour still reads?"""
    require_sandbox()
    box, empty = exchange
    m = mounts.plan_mounts(visible=[package.parent], hidden=[], box=box, empty=empty, tmp_bytes=1 << 20,
                           masked_files=[package / "heldout.bin"])
    ids = bwrap.sandbox_ids()
    scratch = Path(tempfile.mkdtemp(prefix="dlgrade-test-stage-"))
    try:
        cmd = [*bwrap.staging([package.parent], ids, scratch), *bwrap.prefix(ids), "bwrap", *m.args,
               *bwrap.NAMESPACES, "--", "/bin/sh", "-c", 'cat "$1" 2>&1; echo "|"; cat "$2"', "sh",
               str(package / "heldout.bin"), str(package / "other.txt")]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    assert done.returncode == 0, done.stderr
    masked, other = done.stdout.split("|")
    assert "SECRET" not in masked and other.strip() == "fine"
