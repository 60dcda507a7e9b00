"""The reference notebooks run top to bottom in a real Jupyter kernel, as a student would run them."""
from __future__ import annotations

import pytest

from tests.test_exercises.conftest import ROOT

EXERCISES = sorted(p.parent.name for p in (ROOT / "autograder").glob("*/exercise.yaml"))


@pytest.mark.slow
@pytest.mark.parametrize("exercise", EXERCISES)
def test_reference_runs_in_a_kernel_and_its_self_checks_pass(exercise, tmp_path, monkeypatch):
    """Does the solution run in a kernel, training cells included, with every check() cell passing?"""
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.delenv("DLGRADE_GRADING", raising=False)
    nb = nbformat.read(ROOT / "solutions" / exercise / f"{exercise}.ipynb", as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    checks = [c for c in nb.cells if c.cell_type == "code"
              and (c.metadata.get("dlgrade") or {}).get("role") == "check"]
    assert checks, "the notebook has no self-check cells"
    for cell in checks:
        text = "".join(o.get("data", {}).get("text/plain", "") for o in cell.outputs
                       if o.get("output_type") == "execute_result")
        assert "self-checks pass" in text and "FAIL" not in text, (cell.source, text[:500])
