"""Pass marks from reference runs."""
import math

import pytest
import yaml

from dlgrade.calibrate import summarise, write_thresholds
from dlgrade.harness.questions import QuestionResult


def run(**values):
    return [QuestionResult("q1", "t", 1, 1, (), measurements=dict(values),
                           bounds={k: ("max" if k.startswith("params") else "min") for k in values})]


def test_pass_mark_is_mean_minus_k_std_minus_margin():
    """Is an 'at least' pass mark mean - k*std - margin, with mean, std and n recorded?"""
    runs = [run(acc=0.90), run(acc=0.92), run(acc=0.94)]
    (c,) = summarise(runs, k=2.0, margin=0.01)
    assert c.bound == "min" and len(c.values) == 3
    assert c.mean == pytest.approx(0.92) and c.std == pytest.approx(0.02)
    assert c.value == pytest.approx(0.92 - 2 * 0.02 - 0.01, abs=1e-4)


def test_at_most_measurements_get_an_upper_mark():
    """Is an 'at most' pass mark above the mean?"""
    (c,) = summarise([run(params=100.0), run(params=100.0)], k=3.0, margin=5)
    assert c.bound == "max" and c.value == pytest.approx(105)


def test_non_finite_values_are_ignored_but_all_nan_is_an_error():
    """Are NaN runs left out of the statistics, and an always-NaN measurement refused?"""
    (c,) = summarise([run(acc=0.9), run(acc=math.nan), run(acc=0.9)], k=3, margin=0)
    assert len(c.values) == 2
    with pytest.raises(Exception, match="never finite"):
        summarise([run(acc=math.nan)], k=3, margin=0)


def test_fixed_entries_survive_recalibration(tmp_path):
    """Does rewriting keep author-fixed pass marks and record how the others were made?"""
    path = tmp_path / "thresholds" / "quick.yaml"
    path.parent.mkdir()
    path.write_text("# Measured on the stand-in.\n" + yaml.safe_dump(
        {"seeds_solved": {"value": 8, "how": "fixed: 8 of 10 seeds"}, "acc": {"value": 0.5, "how": "old"}}))
    write_thresholds(path, summarise([run(acc=0.9), run(acc=0.92)], k=3, margin=0.02), command="cmd")
    data = yaml.safe_load(path.read_text())
    assert data["seeds_solved"]["value"] == 8
    assert data["acc"]["n"] == 2 and data["acc"]["value"] < 0.9 and "seeded runs" in data["acc"]["how"]
    assert "Written by: cmd" in path.read_text() and "# Measured on the stand-in." in path.read_text()


def test_check_reports_where_hidden_tests_draw_from_the_shared_generator(tmp_path):
    """Does ``dlgrade calibrate --check`` name the line of a hidden test that builds a torch module outside
    ``seeded`` (a draw another grading thread's dropout training would see), and not one built under it?"""
    import shutil
    from pathlib import Path

    from typer.testing import CliRunner

    import dlgrade.cli.calibrate  # noqa: F401 - registers the command
    from dlgrade.cli import app

    course = tmp_path / "course"
    shutil.copytree(Path(__file__).parents[1] / "test_grade" / "tiny_course", course)
    tests = course / "autograder" / "tiny" / "tests.py"
    source = tests.read_text()
    tests.write_text(source + '''

@question("q4", points=0, title="builds torch objects of its own")
def q4(sub, t):
    import torch

    from dlgrade.train import seeded

    torch.nn.Linear(2, 2)                                  # shared generator
    with seeded(0):
        torch.nn.Linear(2, 2)                              # its own
''')
    unseeded = len(source.splitlines()) + 9
    result = CliRunner().invoke(app, ["calibrate", "tiny", "--check", "--course", str(course)])
    assert "draw from torch's process-wide generator" in result.output, result.output
    flagged = [line.strip() for line in result.output.splitlines() if "tests.py:" in line]
    assert flagged and all(line.endswith(f" at autograder/tiny/tests.py:{unseeded}") for line in flagged), \
        (unseeded, flagged)
    assert {line.split(" at ")[0] for line in flagged} == {"kaiming_uniform_", "uniform_"}
