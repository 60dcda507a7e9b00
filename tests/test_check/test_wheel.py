"""The wheel students install carries every exercise's self-checks, built from the course folder, and
nothing else of ``autograder/``."""
from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXERCISES = sorted(p.parent.name for p in (REPO / "autograder").glob("*/exercise.yaml"))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    """A wheel built offline from a copy of the checkout (so the checkout's build/ stays untouched)."""
    tree = tmp_path_factory.mktemp("tree")
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md"):
        shutil.copy2(REPO / name, tree / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    shutil.copytree(REPO / "src", tree / "src", ignore=ignore)
    shutil.copytree(REPO / "autograder", tree / "autograder", ignore=ignore)
    out = tree / "dist"
    run = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                          "-w", str(out), str(tree)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    (found,) = out.glob("dlgrade-*.whl")
    with zipfile.ZipFile(found) as zf:
        yield zf


@pytest.mark.slow
def test_wheel_ships_each_self_check_and_no_hidden_part(wheel):
    """Does the wheel hold each exercise's public.py (and factories.py) as dlgrade/check/public/<ex>.py,
    byte for byte, and no hidden tests, thresholds, rubrics, samples or mutants?"""
    names = set(wheel.namelist())
    for ex in EXERCISES:
        shipped = f"dlgrade/check/public/{ex}.py"
        assert shipped in names, f"{ex}: self-checks missing from the wheel"
        assert wheel.read(shipped) == (REPO / "autograder" / ex / "public.py").read_bytes()
        own = REPO / "autograder" / ex / "factories.py"
        assert (f"dlgrade/check/public/{ex}_factories.py" in names) == own.is_file()
    hidden = [n for n in names if n.startswith("autograder/") or Path(n).name in ("tests.py", "mutants.yaml",
              "rubrics.yaml", "expected.yaml") or "/thresholds/" in n or "/samples/" in n]
    assert not hidden, f"hidden parts in the wheel: {hidden}"


@pytest.mark.slow
def test_shipped_self_checks_load_with_their_factories(wheel, tmp_path):
    """Do the shipped self-checks load from the package alone, each with its exercise's own objects?"""
    from dlgrade.harness import factories
    from dlgrade.harness.questions import load_questions

    for name in wheel.namelist():
        if name.startswith("dlgrade/check/public/") and not name.endswith("__init__.py"):
            wheel.extract(name, tmp_path)
    for ex in EXERCISES:
        assert load_questions(tmp_path / "dlgrade" / "check" / "public" / f"{ex}.py"), ex
        if (REPO / "autograder" / ex / "factories.py").is_file():
            labels = {label for _, label, _ in factories._EXERCISE.values()}
            assert f"public/{ex}_factories.py" in labels, labels
