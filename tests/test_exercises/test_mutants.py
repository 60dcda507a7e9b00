"""Do the hidden tests catch real mistakes? Single-bug mutants of each reference solution.

Each file ``autograder/<ex>/mutants.yaml`` lists mutants of
``solutions/<ex>/<ex>.ipynb``, each one a mistake students make. The file is a
list (or a mapping with the list under ``mutants``) of::

    - name: perceptron-frozen-bias       # unique in the file; part of the test id
      questions: [q1, q2]                # hidden questions that must catch it
                                         #   (or `question: q1` for a single one)
      find: "float(b + lr * error)"      # text in the solution's code cells...
      replace: "float(b)"                # ...and what the student wrote instead
      why: the bias is never updated     # the mistake, in words
      cell: xor-q1-answer                # optional: only look in the cell with this id
      equivalent: why no test can tell   # optional, rare: the edit computes what the solution
                                         #   computes; it must survive (full marks)

``find`` must occur exactly once (in ``cell`` when given, else across all code
cells). The test applies the edit, grades the targeted questions of the
mutated notebook with ``run_trusted`` on the quick profile, and passes when
they earn less than full marks: the mutant is killed. A mutant marked
``equivalent`` is a mistake by the lesson's standards that no fair test can see
(the program computes the same thing): it passes when it keeps full marks, so a
hidden test that starts charging for it is noticed. The kill rate per exercise
(killed / total, equivalents counted apart) is printed at the end of the run
(section "mutant kill rate").
A new exercise only needs its own ``mutants.yaml``.
"""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
EXERCISES = sorted(p.parent.name for p in (ROOT / "autograder").glob("*/exercise.yaml"))

MUTANT_FILES = {p.parent.name: p for p in sorted((ROOT / "autograder").glob("*/mutants.yaml"))}
FIELDS = {"name", "question", "questions", "find", "replace", "why", "cell", "equivalent"}


def load_mutants(path: Path) -> list[dict]:
    """The mutants of one YAML file, checked, each with a ``questions`` list."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    mutants = data.get("mutants") if isinstance(data, dict) else data
    if not isinstance(mutants, list) or not mutants:
        raise ValueError(f"{path}: expected a non-empty list of mutants")
    names, out = set(), []
    for i, m in enumerate(mutants):
        where = f"{path}: mutant {i + 1}"
        if not isinstance(m, dict):
            raise ValueError(f"{where}: expected a mapping")
        missing = {"name", "find", "replace", "why"} - set(m)
        unknown = set(m) - FIELDS
        if missing or unknown:
            raise ValueError(f"{where}: missing {sorted(missing)}, unknown {sorted(unknown)}")
        questions = m.get("questions", [m["question"]] if "question" in m else None)
        if isinstance(questions, str):
            questions = [questions]
        if not isinstance(questions, list) or not questions or ("question" in m and "questions" in m):
            raise ValueError(f"{where}: give `question: qN` or `questions: [qN, ...]`")
        if "equivalent" in m and not (isinstance(m["equivalent"], str) and m["equivalent"].strip()):
            raise ValueError(f"{where}: `equivalent` should say why no test can tell the mutant apart")
        if m["name"] in names:
            raise ValueError(f"{where}: name {m['name']!r} is used twice")
        names.add(m["name"])
        out.append({**m, "questions": [str(q) for q in questions]})
    return out


def mutant_params():
    """One param per mutant; a file that does not load becomes one failing param, not a collection error."""
    params = []
    for ex_id, path in MUTANT_FILES.items():
        try:
            mutants = load_mutants(path)
        except (ValueError, yaml.YAMLError) as exc:
            params.append(pytest.param(ex_id, {"invalid": f"{type(exc).__name__}: {exc}"},
                                       id=f"{ex_id}-invalid-file"))
            continue
        params.extend(pytest.param(ex_id, m, id=f"{ex_id}-{m['name']}") for m in mutants)
    return params


def apply_mutant(nb, mutant: dict):
    """A copy of ``nb`` with the mutant's single edit applied to its code."""
    nb = nbformat.from_dict(nb)
    cells = [c for c in nb.cells if c.cell_type == "code" and (not mutant.get("cell") or c.get("id") == mutant["cell"])]
    hits = [(c, c.source.count(mutant["find"])) for c in cells if mutant["find"] in c.source]
    count = sum(n for _, n in hits)
    assert count == 1, f"mutant {mutant['name']!r}: 'find' occurs {count} times in the solution (needs exactly 1)"
    cell = hits[0][0]
    cell.source = cell.source.replace(mutant["find"], mutant["replace"])
    return nb


def test_every_exercise_has_mutants():
    """Is every exercise covered by at least 20 mutants?"""
    covered = {}
    for ex_id, path in MUTANT_FILES.items():
        try:
            covered[ex_id] = len(load_mutants(path))
        except (ValueError, yaml.YAMLError):
            covered[ex_id] = 0
    missing = [ex for ex in EXERCISES if covered.get(ex, 0) < 20]
    assert not missing, f"exercises with fewer than 20 mutants: {missing} (have {covered})"


@pytest.mark.slow
@pytest.mark.parametrize("ex_id, mutant", mutant_params())
def test_mutant_is_killed(ex_id, mutant, grade, kill_tally, tmp_path):
    """Does the mistake cost the student points on the questions that target it?"""
    from dlgrade.harness.notebook import read_notebook

    assert "invalid" not in mutant, f"autograder/{ex_id}/mutants.yaml: {mutant.get('invalid')}"
    assert ex_id in EXERCISES, f"autograder/{ex_id}/mutants.yaml names no exercise"
    nb = apply_mutant(read_notebook(ROOT / "solutions" / ex_id / f"{ex_id}.ipynb"), mutant)
    path = tmp_path / f"{ex_id}-{mutant['name']}.ipynb"
    nbformat.write(nb, path)
    results = grade(ex_id, path, mutant["questions"])
    found = {r.id for r in results}
    assert set(mutant["questions"]) <= found, f"unknown question(s) {set(mutant['questions']) - found}"
    earned, points = sum(r.earned for r in results), sum(r.points for r in results)
    killed = earned < points
    equivalent = "equivalent" in mutant
    kill_tally.setdefault(ex_id, []).append((mutant["name"], killed, equivalent))
    if equivalent:
        assert not killed, (f"mutant {mutant['name']!r} is marked equivalent ({mutant['equivalent']}) but "
                            f"earned {earned:g}/{points:g} on {', '.join(mutant['questions'])}")
        return
    assert killed, (f"mutant {mutant['name']!r} ({mutant['why']}) earned full marks on "
                    f"{', '.join(mutant['questions'])}")
