"""The Gradescope runner: grade ``<root>/submission`` with ``dlgrade grade``, write ``<root>/results/results.json``.

``run_autograder`` (from ``dlgrade export gradescope``) calls
``python -m dlgrade.export.gradescope_runner --root /autograder --exercise EX``.
The course files (student template and autograder folder) are in
``<root>/source/course``. The notebook is graded by the same pipeline as
``dlgrade grade``: sandboxed with bubblewrap when it can start in the container;
otherwise the notebook is graded without the sandbox and the results say so in
their first line ("NOT SANDBOXED: ...").

``results.json`` follows Gradescope's autograder specification: a top-level
``score``, ``output``, ``execution_time``, ``stdout_visibility`` and one test per
question with ``name``, ``number``, ``score``, ``max_score``, ``status``,
``output`` and ``visibility``.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

from dlgrade.errors import DlgradeError
from dlgrade.export.feedback import points_text, question_text

VISIBILITY = "visible"
"""Per-question results: shown to the student once the instructor publishes the grades."""


def student_of(root: Path) -> str:
    """The submitter from ``submission_metadata.json`` (sid, else email, else name), else "student"."""
    import os

    if os.environ.get("DLGRADE_STUDENT_ID"):
        return os.environ["DLGRADE_STUDENT_ID"]
    try:
        meta = json.loads((root / "submission_metadata.json").read_text(encoding="utf-8"))
        user = (meta.get("users") or [{}])[0]
    except (OSError, ValueError, AttributeError, IndexError):
        return "student"
    for key in ("sid", "email", "name"):
        if isinstance(user, dict) and user.get(key):
            return str(user[key])
    return "student"


def find_notebook(submission: Path, exercise: str, notebook: str) -> Path:
    """The submitted notebook: ``<ex>.ipynb`` (anywhere in the upload), else the only notebook."""
    found = sorted(p for p in submission.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    named = [p for p in found if p.name == notebook]
    if named:
        return named[0]
    if len(found) == 1:
        return found[0]
    if not found:
        raise DlgradeError(f"no notebook in the submission: upload {notebook}")
    raise DlgradeError(f"{len(found)} notebooks in the submission and none named {notebook}: "
                       f"upload {notebook} only")


def copy_as_submitted(source: Path, target: Path) -> None:
    """Copy a notebook without the student id a student can write in its metadata: the platform's
    id for the submitter (the file name given to ``dlgrade grade``) decides whose secret inputs it gets."""
    try:
        nb = json.loads(Path(source).read_text(encoding="utf-8"))
        meta = nb.get("metadata", {}).get("dlgrade")
    except (OSError, UnicodeDecodeError, ValueError, AttributeError):
        shutil.copyfile(source, target)   # dlgrade grade reports what is wrong with it
        return
    if isinstance(meta, dict) and "student_id" in meta:
        del meta["student_id"]
        Path(target).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    else:
        shutil.copyfile(source, target)


def grade(root: Path, *, exercise: str, profile: str = "quick") -> dict:
    """Grade the submission under ``root``; returns the results.json document."""
    from dlgrade.grade import main as grade_main
    from dlgrade.harness.course import find_course

    start = time.perf_counter()
    course = root / "source" / "course"
    ex = find_course(course).exercise(exercise)
    try:
        notebook = find_notebook(root / "submission", exercise, ex.notebook)
    except DlgradeError as exc:
        return {"score": 0, "output": str(exc), "tests": [], "stdout_visibility": "hidden",
                "execution_time": round(time.perf_counter() - start)}
    student = student_of(root)
    with tempfile.TemporaryDirectory(prefix="dlgrade-gradescope-") as tmp:
        named = Path(tmp) / "in" / (re.sub(r"[^A-Za-z0-9.@-]+", "-", student) + ".ipynb")
        named.parent.mkdir()
        copy_as_submitted(notebook, named)
        out = Path(tmp) / "out"
        note = ""
        options = dict(exercise=exercise, profile=profile, course=course, progress=False, workers=1)
        try:
            grade_main([named], out=out, sandbox="auto", **options)
        except DlgradeError as exc:
            if type(exc).__name__ != "SandboxError":
                raise
            note = (f"NOT SANDBOXED: {exc} The notebook ran in the grading container without isolation.")
            grade_main([named], out=out, sandbox="none", **options)
        record = json.loads(next((out / exercise / "results").glob("*.json")).read_text(encoding="utf-8"))
    uploaded_as(record, named.name, notebook.relative_to(root / "submission").as_posix())
    return results_document(record, note=note, seconds=time.perf_counter() - start)


def uploaded_as(record: dict, graded: str, uploaded: str) -> None:
    """Make the messages of ``record`` name the file the student uploaded (``uploaded``) instead of the copy
    graded under the submitter's id (``graded``): the file, the problem, the notes and the questions'
    errors, where they begin with it. Answers, code and every other text are left as they are."""
    def named(text):
        return uploaded + text[len(graded):] if isinstance(text, str) and text.startswith(graded) else text

    record["file"] = named(record.get("file"))
    if isinstance(record.get("problem"), dict):
        record["problem"]["message"] = named(record["problem"].get("message"))
    record["messages"] = [named(m) for m in record.get("messages") or []]
    for q in record.get("questions") or []:
        if isinstance(q.get("error"), dict):
            q["error"]["message"] = named(q["error"].get("message"))


def results_document(record: dict, *, note: str = "", seconds: float = 0.0) -> dict:
    """Gradescope's results.json from a ``dlgrade grade`` result record."""
    from dlgrade.harness.questions import CheckResult, QuestionResult

    tests = []
    for q in record["questions"]:
        result = QuestionResult(q["id"], q["title"], q["points"], q["earned"],
                                tuple(CheckResult(**c) for c in q["checks"]), q["error"],
                                needs_review=q["needs_review"])
        tests.append({
            "name": f"{q['id']}: {q['title']}",
            "number": q["id"],
            "score": q["earned"],
            "max_score": q["points"],
            "status": "passed" if q["earned"] >= q["points"] else "failed",
            "output": question_text(result),
            "visibility": VISIBILITY,
        })
    lines = [note or f"Graded by dlgrade ({record['exercise']}, profile {record['profile']}); "
                     f"isolation: {record.get('isolation') or 'unknown'}.",
             f"Score: {points_text(record['score'])} of {points_text(record['max_points'])} points."]
    if record.get("problem"):
        lines.append(f"Problem: {record['problem'].get('message', '')}")
    lines += [f"Note: {m}" for m in record.get("messages", [])]
    if record.get("needs_review"):
        lines.append("An instructor reviews: " + ", ".join(record["needs_review"]) + ".")
    return {"score": record["score"], "execution_time": round(seconds), "output": "\n".join(lines),
            "stdout_visibility": "hidden", "tests": tests}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dlgrade.export.gradescope_runner",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--root", type=Path, default=Path("/autograder"))
    parser.add_argument("--exercise", required=True)
    parser.add_argument("--profile", default="quick")
    args = parser.parse_args(argv)
    results = args.root / "results"
    results.mkdir(parents=True, exist_ok=True)
    status = 0
    try:
        document = grade(args.root, exercise=args.exercise, profile=args.profile)
    except DlgradeError as exc:
        document = {"score": 0, "output": f"The autograder could not grade this submission: {exc}",
                    "tests": [], "stdout_visibility": "hidden"}
        print(f"error: {exc}", file=sys.stderr)
        status = 1
    (results / "results.json").write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return status


if __name__ == "__main__":
    sys.exit(main())
