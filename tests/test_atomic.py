"""Atomic file writes shared by the grader and the quiz gradebook."""
import os
import stat

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
