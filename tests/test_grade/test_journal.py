"""Resuming: the journal, atomic writes, and a batch killed with SIGKILL half-way."""
from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from fake_worker import FakeWorker
from dlgrade.grade.journal import Journal, write_atomic

HERE = Path(__file__).resolve().parent


def test_rerun_grades_only_what_is_missing(grade, make_submission):
    """After a finished batch, does a rerun with one new notebook grade just that one?"""
    paths = [make_submission(f"s{i}.ipynb") for i in range(3)]
    grade(paths)
    summary = grade(paths + [make_submission("new.ipynb")])
    assert (summary.graded, summary.resumed) == (1, 3)
    assert FakeWorker.created[-1].opened == ["new"]
    assert len(summary.gradebook.read_text().splitlines()) == 5


def test_regrade_and_changes_grade_again(grade, course, make_submission):
    """Do --regrade, a changed notebook and a changed autograder folder each cause grading again?"""
    a, b = make_submission("a.ipynb"), make_submission("b.ipynb")
    grade([a, b])
    assert grade([a, b], regrade=True).graded == 2
    make_submission("a.ipynb", answer="I changed my answer about overfitting.")
    assert grade([a, b]).graded == 1
    rubrics = course / "autograder" / "tiny" / "rubrics.yaml"
    rubrics.write_text(rubrics.read_text() + "\n")
    assert grade([a, b]).graded == 2


def test_torn_journal_line_is_ignored_and_closed_off(tmp_path, grade, make_submission):
    """Does a half-written last journal line (a kill mid-write) neither break reading nor the next entry?"""
    paths = [make_submission("a.ipynb")]
    summary = grade(paths)
    journal = summary.out / "journal.jsonl"
    with open(journal, "ab") as fh:
        fh.write(b'{"student_id": "b", "sha2')
    assert len(Journal(journal).entries()) == 1
    summary = grade(paths + [make_submission("b.ipynb")])
    assert summary.graded == 1
    assert [e["student_id"] for e in Journal(journal).entries()] == ["a", "b"]


def test_atomic_write_leaves_old_or_new_never_a_mix(tmp_path, monkeypatch):
    """If writing fails half-way, is the old file intact and no temporary file left behind?"""
    target = write_atomic(tmp_path / "r.json", b"old")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    try:
        write_atomic(target, b"new")
    except OSError:
        pass
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


KILLED_BATCH = """
import sys
from pathlib import Path
sys.path.insert(0, {here!r})
from builders import grader
grader(Path({course!r}), Path({out!r}))([Path({folder!r})])
"""


def test_kill_9_then_rerun_loses_and_duplicates_nothing(course, make_submission, tmp_path):
    """After SIGKILL in the middle of a batch, does a rerun grade only what is missing, giving one row per student?"""
    n = 12
    slow = ["import time\ntime.sleep(0.4)"]
    paths = [make_submission(f"s{i:02d}.ipynb", extra=slow) for i in range(n)]
    out = tmp_path / "out"
    script = KILLED_BATCH.format(here=str(HERE), course=str(course), out=str(out), folder=str(paths[0].parent))
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    journal = out / "tiny" / "journal.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if journal.exists() and journal.read_bytes().count(b"\n") >= 3:
            break
        time.sleep(0.05)
    assert proc.poll() is None, f"the batch ended before it could be killed: {proc.stderr.read().decode()[-2000:]}"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = {e["student_id"] for e in Journal(journal).entries()}
    assert 3 <= len(done_before) < n

    from builders import grader

    summary = grader(course, out)([paths[0].parent])
    assert summary.resumed == len(done_before)
    assert summary.graded == n - len(done_before)
    assert set(FakeWorker.created[-1].opened).isdisjoint(done_before)
    rows = list(csv.DictReader(io.StringIO(summary.gradebook.read_text())))
    assert sorted(r["student_id"] for r in rows) == [f"s{i:02d}" for i in range(n)]
    assert all(r["score"] == "7" for r in rows)
    assert len(list((out / "tiny" / "results").glob("*.json"))) == n
    assert not list((out / "tiny" / "results").glob(".*"))  # no temporary files left
    keys = [json.dumps(e, sort_keys=True) for e in Journal(journal).entries()]
    assert len(set(keys)) == n
