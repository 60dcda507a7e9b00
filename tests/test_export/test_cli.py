"""`dlgrade export`: a thin wrapper with one-line errors."""
from __future__ import annotations

import subprocess
import sys


def _dlgrade(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "dlgrade", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


def test_unknown_format_is_one_line():
    """Is an unknown platform one error line with the known ones, not a traceback?"""
    done = _dlgrade("export", "moodle", "xor")
    assert done.returncode == 2
    assert "unknown export format 'moodle'" in done.stderr and "nbgrader, otter, gradescope" in done.stderr
    assert "Traceback" not in done.stderr


def test_nbgrader_export_writes_the_course(tmp_path):
    """Does `dlgrade export nbgrader EX --course DIR` write the source notebook and the config?"""
    done = _dlgrade("export", "nbgrader", "xor", "--course", str(tmp_path / "course"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "course" / "source" / "xor" / "xor.ipynb").is_file()
    assert (tmp_path / "course" / "nbgrader_config.py").is_file()
