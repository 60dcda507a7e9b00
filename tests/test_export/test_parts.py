"""What every export reads from an exercise and copies beside it."""
from __future__ import annotations

import pytest

from dlgrade.export.parts import copy_spec
from dlgrade.grade.keys import autograder_digest
from dlgrade.harness.course import Exercise, find_course

COURSE = find_course()


@pytest.mark.parametrize("exercise", COURSE.exercise_ids())
def test_copied_autograder_folder_grades_as_the_original(exercise, tmp_path):
    """Does the exported autograder folder hold every file grading reads (the exercise's factories too), so that
    its digest, and with it each student's secret inputs, are those of ``dlgrade grade``, without the samples?"""
    ex = COURSE.exercise(exercise)
    copied = copy_spec(ex, tmp_path)
    assert not (copied / "samples").exists()
    assert autograder_digest(Exercise.load(tmp_path, exercise)) == autograder_digest(ex)
    original = {p.relative_to(ex.spec_dir) for p in ex.spec_dir.rglob("*.py") if "__pycache__" not in p.parts}
    assert original <= {p.relative_to(copied) for p in copied.rglob("*.py")}


def test_copy_replaces_a_stale_folder(tmp_path):
    """Does exporting again over an old export drop files the exercise no longer has?"""
    ex = COURSE.exercise("xor")
    stale = tmp_path / "autograder" / "xor" / "old_tests.py"
    stale.parent.mkdir(parents=True)
    stale.write_text("raise SystemExit\n")
    copy_spec(ex, tmp_path)
    assert not stale.exists()
    assert autograder_digest(Exercise.load(tmp_path, "xor")) == autograder_digest(ex)
