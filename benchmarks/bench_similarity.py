"""Similarity benchmark: ``dlgrade similarity`` on N synthetic graded submissions (default 500).

Each synthetic student starts from one of the exercise's samples or mutants
(see ``tests/test_similarity/similarity_cases.py``) and makes it their own:
renamed variables, comments and layout, and a few edits of their own; their
written answer is a random sentence mix. A few groups of 2-4 students then copy
one of them (with the copier's usual disguises). The results are written as
``dlgrade grade`` writes them, and the benchmark times ``dlgrade.similarity.main``
end to end (reading the results, comparing every question, writing the HTML and
CSV), printing the seconds, the pairs flagged and how many planted copies were
found. Target: under a minute for 500 submissions.

    python benchmarks/bench_similarity.py [--exercise xor] [-n 500] [--groups 10] [--seed 0]
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "test_similarity"))

WORDS = ("gradient weights hidden features boundary separable curve plane linear tanh relu neurons "
         "points classes sigmoid output error training optimiser loss composition matrix affine region "
         "corner diagonal encode quadrant activation depth width stack bend fold map learn fit").split()


def synthetic(exercise: str, n: int, groups: int, seed: int):
    """(results: name -> record, planted copy pairs as sorted name pairs)."""
    from similarity_cases import CODE_TRANSFORMS, code_case, transform_code

    case = code_case(exercise, seed=seed)
    bases = sorted(k for k in case.bases if not k.endswith("untouched"))
    rng = random.Random(seed)
    q_text = case.layout.text_questions[0] if case.layout.text_questions else None
    results, planted = {}, set()
    for s in range(n):
        cells = transform_code(case.bases[rng.choice(bases)], "rename", case.layout, rng)
        cells = transform_code(cells, "comments", case.layout, rng)
        for _ in range(rng.randrange(1, 4)):
            cells = transform_code(cells, "edits", case.layout, rng)
        cells = own_lines(cells, rng)
        answer = " ".join(rng.choice(WORDS) for _ in range(rng.randrange(25, 60))) + "."
        results[f"s{s:04d}"] = record(f"s{s:04d}", cells, {q_text: answer} if q_text else {}, exercise)
    names = sorted(results)
    for g in range(groups):
        source = rng.choice(names)
        for c in range(rng.randrange(1, 4)):
            name = f"copy{g:02d}-{c}"
            cells = transform_code(results[source]["code"], rng.choice(CODE_TRANSFORMS), case.layout, rng)
            results[name] = record(name, cells, results[source]["answers"], exercise)
            planted.add(tuple(sorted((source, name))))
    return results, planted


def own_lines(cells, rng: random.Random):
    """Two lines of the student's own in each function (what makes real students' code differ)."""
    out = []
    for cell in cells:
        lines = cell["source"].splitlines()
        if cell["role"] == "answer":
            for _ in range(2):
                body = [i for i, line in enumerate(lines) if line.startswith("    ") and line.strip()
                        and not line.rstrip().endswith((":", ",", "(", "["))
                        and not line.lstrip().startswith(("#", '"'))]
                if body:
                    i = rng.choice(body)
                    indent = lines[i][:len(lines[i]) - len(lines[i].lstrip())]
                    lines.insert(i + 1, f"{indent}note = {rng.choice(WORDS)}.{rng.choice(WORDS)}_{rng.randrange(99)}"
                                        f"({rng.choice(WORDS)}, axis={rng.randrange(3)})")
        out.append(dict(cell, source="\n".join(lines) + "\n"))
    return out


def record(name: str, cells, answers, exercise: str) -> dict:
    return {"schema": 1, "student_id": name, "name": "", "file": f"{name}.ipynb", "exercise": exercise,
            "status": "graded", "code": cells, "answers": answers}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--exercise", default="xor")
    parser.add_argument("-n", type=int, default=500)
    parser.add_argument("--groups", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from dlgrade.similarity import main as similarity

    t0 = time.perf_counter()
    results, planted = synthetic(args.exercise, args.n, args.groups, args.seed)
    made = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / args.exercise / "results"
        folder.mkdir(parents=True)
        for name, rec in results.items():
            (folder / f"{name}.json").write_text(json.dumps(rec), encoding="utf-8")
        t0, c0 = time.perf_counter(), time.process_time()
        result = similarity(args.exercise, out=Path(tmp), course=ROOT)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        size = result.html.stat().st_size
    flagged = result.flagged_keys()
    found = len(planted & flagged)
    print(f"{args.exercise}: {len(results)} submissions ({args.n} students + {len(results) - args.n} copies "
          f"in {args.groups} groups), made in {made:.1f} s")
    print(f"dlgrade similarity: {seconds:.1f} s wall, {cpu:.1f} s CPU (reading the results, comparing, writing "
          "HTML and CSV); "
          f"{len(flagged)} pair(s) flagged, planted copies found {found}/{len(planted)}; "
          f"{len(result.groups)} group(s) of 3+; report {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
