"""`dlgrade grade`: a thin wrapper over dlgrade.grade.main."""
from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from fake_worker import FakeWorker


def test_grade_command_grades_a_folder(course, tmp_path, monkeypatch):
    """Does `dlgrade grade FOLDER --exercise EX --course C --out O` write the gradebook and print where it is?"""
    import dlgrade.cli.grade  # noqa: F401 - registers the command
    from dlgrade.cli import app
    from dlgrade.grade import pipeline

    monkeypatch.setattr(pipeline, "default_worker_factory", lambda: FakeWorker)
    samples = course / "autograder" / "tiny" / "samples"
    result = CliRunner().invoke(app, ["grade", str(samples), "--exercise", "tiny", "--course", str(course),
                                      "--out", str(tmp_path / "out"), "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "tiny" / "gradebook.csv").read_text().count("\n") == 4
    assert "gradebook" in result.output


def test_known_errors_print_one_line(course, tmp_path):
    """Does an unknown exercise end with exit status 2 and a one-line error, not a traceback?"""
    nb = course / "autograder" / "tiny" / "samples" / "good.ipynb"
    proc = subprocess.run([sys.executable, "-m", "dlgrade", "grade", str(nb), "--exercise", "nope",
                           "--course", str(course), "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "error: unknown exercise 'nope'" in proc.stderr
    assert "Traceback" not in proc.stderr
