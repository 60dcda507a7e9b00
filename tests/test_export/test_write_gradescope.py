"""The Gradescope autograder zip and its runner."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile

import pytest

from dlgrade.errors import DlgradeError
from dlgrade.export.gradescope_runner import find_notebook, results_document, student_of
from dlgrade.export.parts import read_parts
from dlgrade.export.write_gradescope import build_zip, write_zip


def test_zip_layout_and_stable_bytes():
    """Are setup.sh and an executable run_autograder at the zip's root, without the sample submissions?"""
    data = build_zip(read_parts("xor"))
    assert data == build_zip(read_parts("xor"))
    import io

    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        modes = {i.filename: i.external_attr >> 16 for i in zf.infolist()}
        run = zf.read("run_autograder").decode()
    assert {"setup.sh", "run_autograder", "requirements.txt", "course/assignments/xor/xor.ipynb",
            "course/autograder/xor/tests.py", "course/autograder/xor/exercise.yaml"} <= set(names)
    assert modes["run_autograder"] & 0o111 and modes["setup.sh"] & 0o111
    assert not any("samples" in n for n in names)
    assert run.startswith("#!/usr/bin/env bash") and "--exercise xor" in run


def test_zip_needs_a_zip_name(tmp_path):
    """Is an output name without .zip one clear error?"""
    with pytest.raises(DlgradeError, match="must be a .zip file"):
        write_zip(read_parts("xor"), tmp_path / "xor")


def test_results_document_from_a_record(validate_gradescope):
    """Does a dlgrade result record become a results.json in Gradescope's documented format?"""
    record = {"exercise": "xor", "profile": "quick", "isolation": "bubblewrap (test)", "score": 3.0,
              "max_points": 6.0, "problem": None, "messages": ["protected cell 2 was edited"],
              "needs_review": ["q2"],
              "questions": [
                  {"id": "q1", "title": "One", "points": 4.0, "earned": 3.0, "error": None, "needs_review": False,
                   "checks": [{"message": "a", "points": 3.0, "passed": True, "hint": "", "detail": ""},
                              {"message": "b", "points": 1.0, "passed": False, "hint": "h", "detail": "d"}]},
                  {"id": "q2", "title": "Two", "points": 2.0, "earned": 0.0, "needs_review": True, "checks": [],
                   "error": {"kind": "missing", "message": "`f` is not defined"}}]}
    document = results_document(record)
    validate_gradescope(document)
    assert [(t["number"], t["score"], t["max_score"], t["status"]) for t in document["tests"]] == [
        ("q1", 3.0, 4.0, "failed"), ("q2", 0.0, 2.0, "failed")]
    assert "FAIL  b (1 pt) [d]" in document["tests"][0]["output"]
    assert "stopped: `f` is not defined" in document["tests"][1]["output"]
    assert document["output"].splitlines()[0].endswith("isolation: bubblewrap (test).")


def test_submission_notebook_and_student(tmp_path, monkeypatch):
    """Is the submitted notebook found by name, and the student read from Gradescope's metadata?"""
    (tmp_path / "submission" / "sub").mkdir(parents=True)
    with pytest.raises(DlgradeError, match="no notebook in the submission"):
        find_notebook(tmp_path / "submission", "xor", "xor.ipynb")
    (tmp_path / "submission" / "sub" / "mine.ipynb").write_text("{}")
    assert find_notebook(tmp_path / "submission", "xor", "xor.ipynb").name == "mine.ipynb"
    (tmp_path / "submission" / "other.ipynb").write_text("{}")
    with pytest.raises(DlgradeError, match="none named xor.ipynb"):
        find_notebook(tmp_path / "submission", "xor", "xor.ipynb")
    monkeypatch.delenv("DLGRADE_STUDENT_ID", raising=False)
    assert student_of(tmp_path) == "student"
    (tmp_path / "submission_metadata.json").write_text(json.dumps({"users": [{"email": "a@b.org", "name": "A"}]}))
    assert student_of(tmp_path) == "a@b.org"


def test_run_autograder_on_a_fake_root_without_notebook(tmp_path, validate_gradescope):
    """Does run_autograder, pointed at a fake /autograder, write a valid results.json saying what is wrong?"""
    with zipfile.ZipFile(__import__("io").BytesIO(build_zip(read_parts("xor")))) as zf:
        zf.extractall(tmp_path / "source")
    (tmp_path / "submission").mkdir()
    (tmp_path / "submission" / "notes.txt").write_text("no notebook here")
    env = dict(os.environ, DLGRADE_AUTOGRADER_ROOT=str(tmp_path), DLGRADE_PYTHON=sys.executable)
    subprocess.run(["bash", str(tmp_path / "source" / "run_autograder")], env=env, check=True, timeout=120)
    document = json.loads((tmp_path / "results" / "results.json").read_text())
    validate_gradescope(document)
    assert document["score"] == 0 and "upload xor.ipynb" in document["output"]


def test_a_broken_upload_is_named_as_the_student_uploaded_it(tmp_path, validate_gradescope):
    """The notebook is graded as a copy named after the submitter's id: do the messages name the student's own
    file (``work/xor.ipynb``), not the copy (``b1.ipynb``)?"""
    with zipfile.ZipFile(__import__("io").BytesIO(build_zip(read_parts("xor")))) as zf:
        zf.extractall(tmp_path / "source")
    (tmp_path / "submission" / "work").mkdir(parents=True)
    (tmp_path / "submission" / "work" / "xor.ipynb").write_text("{not json")
    (tmp_path / "submission_metadata.json").write_text(json.dumps({"users": [{"sid": "b1"}]}))
    env = dict(os.environ, DLGRADE_AUTOGRADER_ROOT=str(tmp_path), DLGRADE_PYTHON=sys.executable)
    env.pop("DLGRADE_STUDENT_ID", None)
    subprocess.run(["bash", str(tmp_path / "source" / "run_autograder")], env=env, check=True, timeout=300)
    document = json.loads((tmp_path / "results" / "results.json").read_text())
    validate_gradescope(document)
    assert document["score"] == 0 and "work/xor.ipynb: not a notebook" in document["output"], document["output"]
    assert "b1.ipynb" not in json.dumps(document)


def test_submitter_id_wins_over_notebook_metadata(tmp_path):
    """Is the student id a student can write into the notebook dropped, so the platform's id decides?"""
    from dlgrade.export.gradescope_runner import copy_as_submitted

    source = tmp_path / "in.ipynb"
    source.write_text(json.dumps({"cells": [], "metadata": {"dlgrade": {"exercise": "xor", "student_id": "x"}},
                                  "nbformat": 4, "nbformat_minor": 5}))
    copy_as_submitted(source, tmp_path / "out.ipynb")
    assert json.loads((tmp_path / "out.ipynb").read_text())["metadata"]["dlgrade"] == {"exercise": "xor"}
    (tmp_path / "bad.ipynb").write_text("not json")
    copy_as_submitted(tmp_path / "bad.ipynb", tmp_path / "bad-copy.ipynb")
    assert (tmp_path / "bad-copy.ipynb").read_text() == "not json"
