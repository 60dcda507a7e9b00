"""The otter-assign master notebook: questions, solutions, public and hidden tests."""
from __future__ import annotations

import re

import pytest

from dlgrade.export.parts import read_parts
from dlgrade.export.write_otter import IGNORE_TAG, build_master, case_points


def _raw(nb, prefix):
    return [c.source for c in nb.cells if c.cell_type == "raw" and c.source.startswith(prefix)]


@pytest.mark.parametrize("points, cases", [(4, [1, 1, 1, 1]), (2.5, [1, 1, 0.5]), (1, [1]), (0.5, [0.5])])
def test_case_points_add_up(points, cases):
    """Do the hidden cases of a question add up to its points, one per whole point?"""
    assert case_points(points) == cases


def test_master_notebook_has_otter_blocks():
    """Does every code question get points, a solution, a 0-point public case and hidden cases worth its points?"""
    parts = read_parts("xor")
    nb = build_master(parts)
    assert nb.cells[0].source.startswith("# ASSIGNMENT CONFIG")
    assert "ok_format: false" in nb.cells[0].source and "- autograder" in nb.cells[0].source
    heads = _raw(nb, "# BEGIN QUESTION")
    assert [re.search(r"name: (\w+)", h).group(1) for h in heads] == [q.id for q in parts.questions]
    assert "manual: true" in heads[-1] and all("manual" not in h for h in heads[:-1])
    assert len(_raw(nb, "# BEGIN TESTS")) == 5 and len(_raw(nb, "# END QUESTION")) == 6
    tests = [c.source for c in nb.cells if c.cell_type == "code" and "BEGIN TEST CONFIG" in c.source]
    for q in parts.questions[:-1]:
        mine = [t for t in tests if f'"{q.id}"' in t]
        public = [t for t in mine if "hidden: false" in t]
        assert len(public) == 1 and "points: 0" in public[0]
        hidden = [float(re.search(r"points: ([\d.]+)", t).group(1)) for t in mine if "hidden: true" in t]
        assert sum(hidden) == q.points
    assert not any(c.source.strip().startswith("check(") for c in nb.cells)
    trains = [c for c in nb.cells if c.get("metadata", {}).get("dlgrade", {}).get("role") == "train"]
    assert trains and all(IGNORE_TAG in c.metadata.tags for c in trains)


def test_solution_regions_give_dlgrade_stubs():
    """Does otter's student version of an answer raise NotImplementedError with the hint, as dlgrade's does?"""
    nb = build_master(read_parts("xor"))
    answer = next(c.source for c in nb.cells if c.get("id") == "xor-q3-answer")
    assert '""" # BEGIN PROMPT' in answer and "# BEGIN SOLUTION NO PROMPT" in answer
    prompt = answer.split('""" # BEGIN PROMPT')[1].split('""" # END PROMPT')[0]
    assert "raise NotImplementedError(" in prompt
    compile(answer, "answer", "exec")
