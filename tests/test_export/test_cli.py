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


def test_a_package_pip_would_refuse_is_refused_at_export(tmp_path):
    """Is a --package that is not a pip requirement one error line now, not a failed image build on the
    platform later? Do requirements, URLs and wheels pass?"""
    from dlgrade.errors import DlgradeError
    from dlgrade.export import main

    done = _dlgrade("export", "gradescope", "xor", "--out", str(tmp_path / "g.zip"), "--package",
                    "dlgrade>=0.1; rm -rf /")
    assert done.returncode == 2 and "is not a pip requirement" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "g.zip").exists()
    for bad in ("dlgrade\nrequests", "dlgrade===", "", "x\ny.whl"):
        try:
            main("xor", format="otter", out=tmp_path / "o", package=bad)
        except DlgradeError as exc:
            assert "is not a pip requirement" in str(exc)
        else:
            raise AssertionError(f"{bad!r} was accepted")
    for good in ("dlgrade==0.1.0", "dlgrade @ https://example.org/dlgrade-0.1.tar.gz",
                 "git+https://example.org/dlgrade.git", "dlgrade[cluster]>=0.1"):
        assert main("xor", format="gradescope", out=tmp_path / "ok.zip", package=good)
