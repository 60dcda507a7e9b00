"""The nbgrader source notebook: nbgrader's cell metadata on dlgrade's cell roles."""
from __future__ import annotations

from dlgrade.export.parts import read_parts
from dlgrade.export.write_nbgrader import SKIP_TAG, build_notebook, cell_timeout, write_course


def _by_id(nb):
    return {c.id: c for c in nb.cells}


def test_roles_become_nbgrader_cells():
    """Are setup and self-checks locked, answers solution cells, written answers manual and tests hidden?"""
    parts = read_parts("xor")
    cells = _by_id(build_notebook(parts))
    assert cells["xor-setup"].metadata.nbgrader["locked"] is True
    answer = cells["xor-q3-answer"]
    assert answer.metadata.nbgrader["solution"] is True and answer.metadata.nbgrader["grade"] is False
    lines = answer.source.splitlines()
    hints = [i for i, line in enumerate(lines) if line.strip().startswith("# Hint:")]
    assert hints and lines.index("    ### BEGIN SOLUTION") > max(hints)
    assert not any("### HINT:" in line for line in lines)
    check = cells["xor-q3-check"]
    assert check.metadata.nbgrader["locked"] and SKIP_TAG in check.metadata.tags
    assert SKIP_TAG in cells["xor-q3-train"].metadata.tags and "nbgrader" not in cells["xor-q3-train"].metadata
    written = cells["xor-q6-answer"].metadata.nbgrader
    assert written["grade"] and written["solution"] and written["points"] == 2
    tests = [c for c in cells.values() if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"]
    assert [c.metadata.nbgrader["grade_id"] for c in tests] == ["q1", "q2", "q3", "q4", "q5"]
    assert sum(c.metadata.nbgrader["points"] for c in tests) + written["points"] == sum(
        q.points for q in parts.questions)
    body = tests[2].source
    assert body.index("### BEGIN HIDDEN TESTS") < body.index('grade_question("xor", "q3", globals())') < body.index(
        "### END HIDDEN TESTS")
    assert all(c.metadata.nbgrader["locked"] for c in tests)


def test_course_folder_keeps_hidden_tests_out_of_source(tmp_path):
    """Does the export put the hidden tests beside source/, never inside what nbgrader releases?"""
    written = write_course(read_parts("confusion"), tmp_path)
    assert (tmp_path / "source" / "confusion" / "confusion.ipynb") in written
    assert (tmp_path / "autograder" / "confusion" / "tests.py").is_file()
    assert not (tmp_path / "autograder" / "confusion" / "samples").exists()
    assert sorted(p.name for p in (tmp_path / "source" / "confusion").iterdir()) == ["confusion.ipynb"]
    config = (tmp_path / "nbgrader_config.py").read_text()
    assert f"c.Execute.timeout = {cell_timeout(read_parts('confusion'), 'quick')}" in config
    compile(config, "nbgrader_config.py", "exec")


def test_cell_timeout_covers_the_profile():
    """Is nbgrader's per-cell timeout at least the profile's notebook budget (and two minutes)?"""
    parts = read_parts("ablation")
    for profile in ("quick", "full"):
        assert cell_timeout(parts, profile) >= max(120, parts.exercise.profile(profile).time_limit)
