"""Atomic file writes shared by the grader and the quiz gradebook."""
import os
import stat

import pytest

from dlgrade.atomic import write_atomic


def test_replaces_content_whole_with_usual_permissions(tmp_path):
    """Does a write replace the old content entirely, leave no temporary file and use umask permissions?"""
    path = tmp_path / "sub" / "gradebook.csv"
    write_atomic(path, b"old content that is longer")
    write_atomic(path, b"new")
    assert path.read_bytes() == b"new"
    assert [p.name for p in path.parent.iterdir()] == ["gradebook.csv"]
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask


def test_a_folder_in_the_way_is_named_and_no_temporary_file_is_left(tmp_path):
    """Writing onto a path that is a folder: does the error name that path (not the temporary file), and is
    nothing left behind?"""
    target = tmp_path / "out"
    target.mkdir()
    with pytest.raises(IsADirectoryError) as info:
        write_atomic(target, b"x")
    assert info.value.filename == str(target) and ".tmp" not in str(info.value)
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
