"""Hostile and unusual inputs never break the batch or lose an answer.

Each case grades a real batch of the tiny exercise (stand-in worker) with good
submissions next to the odd one: the good ones are graded, the odd one is
graded or gets a message naming it, and every file is accounted for.
"""
from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import nbformat
import pytest

from builders import GOOD_ADD, GOOD_ANSWER, GOOD_PREDICT, grader, template_of, write_submission, write_v3
from dlgrade.grade import unpack_zip as unpack_module
from dlgrade.grade.check_ids import skeleton
from dlgrade.grade.load_submissions import find_submissions
from dlgrade.names import readable


NOTEBOOK = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'


def gradebook(summary) -> dict[str, list[str]]:
    """student_id -> the gradebook row as a dict of column -> cell."""
    import csv

    rows = list(csv.reader(summary.gradebook.open(encoding="utf-8")))
    return {r[0]: dict(zip(rows[0], r)) for r in rows[1:]}


def assert_good_graded(summary, *ids):
    book = gradebook(summary)
    for sid in ids:
        assert book[sid]["status"] == "graded" and book[sid]["score"] == "7", book[sid]


def strip_ids(path: Path, minor: int = 4) -> Path:
    """Rewrite the notebook at ``path`` as nbformat 4.``minor`` without cell ids (and without dlgrade metadata)."""
    data = json.loads(path.read_text())
    data["nbformat_minor"] = minor
    for cell in data["cells"]:
        cell.pop("id", None)
        cell["metadata"] = {}
    path.write_text(json.dumps(data))
    return path


# --- file names and folders -------------------------------------------------------------------------------------

def test_non_utf8_file_and_folder_names_are_graded(course, tmp_path):
    """Is a notebook named with non-UTF-8 bytes (M\\xfcller_anna.ipynb), in a folder with such a name and with
    the output folder under one too, graded, with a readable id and a gradebook and summary written?"""
    folder = Path(os.fsdecode(os.fsencode(tmp_path) + b"/Abgaben-\xe9t\xe9"))
    grade = grader(course, Path(os.fsdecode(os.fsencode(tmp_path) + b"/Ausgabe-\xe9")))
    odd = Path(os.fsdecode(os.fsencode(folder) + b"/M\xfcller_anna.ipynb"))
    write_submission(template_of(course), odd)
    write_submission(template_of(course), folder / "alice.ipynb")
    summary = grade([folder])
    book = gradebook(summary)
    assert_good_graded(summary, "alice", "Müller_anna")
    assert book["Müller_anna"]["file"] == "Müller_anna.ipynb"
    assert "not valid UTF-8" in summary.summary.read_text(encoding="utf-8")
    assert grade([folder]).resumed == 2  # a rerun writes the reports again


def test_symlinked_notebooks_are_refused_by_name(grade, course, make_submission, tmp_path):
    """Is a link to the solution notebook (and a link to a folder) refused with a message naming it, while the
    real notebooks next to it are graded?"""
    good = make_submission("alice.ipynb")
    (good.parent / "mallory.ipynb").symlink_to(course / "solutions" / "tiny" / "tiny.ipynb")
    (good.parent / "more").symlink_to(course / "solutions" / "tiny", target_is_directory=True)
    summary = grade([good.parent])
    assert set(gradebook(summary)) == {"alice"}
    assert any(i.startswith("mallory.ipynb: a symbolic link") for i in summary.ignored)
    assert any(i.startswith("more: a link to a folder") for i in summary.ignored)
    assert "mallory.ipynb" in summary.summary.read_text()


def test_deeply_nested_json_is_unreadable_not_a_crash(grade, make_submission):
    """Does a 400 KB notebook of nested '[' get 'unreadable' with its name, while the others are graded?"""
    good = make_submission("alice.ipynb")
    (good.parent / "deep.ipynb").write_text("[" * 400_000)
    summary = grade([good.parent])
    assert_good_graded(summary, "alice")
    record = json.loads((summary.out / "results" / "deep.json").read_text())
    assert record["status"] == "unreadable"
    assert record["problem"]["message"].startswith("deep.ipynb: not a notebook (its JSON is nested too deeply")


# --- notebooks whose cells lost their ids --------------------------------------------------------------------------

def test_cells_without_ids_keep_the_written_answer(grade, make_submission, read_result):
    """Does a notebook saved as nbformat 4.4 (no cell ids, metadata stripped) keep its short answer and skip
    its check cell, scoring like the same notebook with ids?"""
    path = strip_ids(make_submission("noids.ipynb"))
    make_submission("alice.ipynb")
    summary = grade([path.parent])
    record = read_result(summary, "noids")
    assert record["score"] == 7 and record["answers"]["q3"] == GOOD_ANSWER
    assert [c["status"] for c in record["cells"]].count("skipped") == 1
    assert any("matched to the exercise's cells by content and position" in m for m in record["messages"])
    assert_good_graded(summary, "alice")


def test_training_cells_without_ids_are_not_run(grade, course, tmp_path, read_result):
    """When the template has a training cell, is the student's copy of it (no ids, edited) skipped in grading?"""
    template = template_of(course)
    nb = nbformat.read(template, as_version=4)
    train = nbformat.v4.new_code_cell("# Training cell (skipped by the grader)\nimport time\n"
                                      "for epoch in range(3):\n    time.sleep(10)\nTRAINED = True")
    train["id"] = "c-train"
    train.metadata["dlgrade"] = {"role": "train"}
    nb.cells.append(train)
    nbformat.write(nb, str(template))
    path = write_submission(template, tmp_path / "subs" / "trainer.ipynb")
    data = json.loads(path.read_text())
    data["cells"][7]["source"] = "".join(data["cells"][7]["source"]).replace("range(3)", "range(30)")
    path.write_text(json.dumps(data))
    strip_ids(path)
    record = read_result(grade([path]), "trainer")
    assert record["score"] == 7
    assert record["timings"]["execute_notebook"] < 10
    assert {c["index"]: c["status"] for c in record["cells"]}[7] == "skipped"


def test_nbformat3_notebook_says_which_answer_was_not_found(grade, make_submission, tmp_path, read_result):
    """Is an nbformat 3 notebook's code graded, and the student told that their written answer was not found?"""
    make_submission("alice.ipynb")
    old = write_v3(tmp_path / "submissions" / "old.ipynb", "import numpy as np", GOOD_ADD, GOOD_PREDICT)
    summary = grade([old.parent])
    record = read_result(summary, "old")
    assert {q["id"]: q["earned"] for q in record["questions"]} == {"q1": 2, "q2": 3, "q3": 0}
    assert any(m.startswith("your answer to q3 was not found") for m in record["messages"])
    assert_good_graded(summary, "alice")


def test_notebook_for_another_exercise_is_not_run(grade, make_submission, tmp_path, read_result):
    """Is a notebook of another exercise (its setup names it, its cells are not this exercise's) stopped before
    anything runs, with a message naming the exercise, while the others are graded?"""
    from tests.conftest import make_notebook

    make_submission("alice.ipynb")
    other = make_notebook(("DLGRADE_EXERCISE = 'ablation'\nimport numpy as np", "setup"),
                          ("open('ran', 'w').write('yes')\nimport time\ntime.sleep(30)", "train"),
                          ("def evaluate(model, loader):\n    return 1.0", "answer"), exercise="ablation")
    for i, cell in enumerate(other.cells):
        cell["id"] = f"abl-{i}"
    nbformat.write(other, str(tmp_path / "submissions" / "bob.ipynb"))
    summary = grade([tmp_path / "submissions"])
    record = read_result(summary, "bob")
    assert record["status"] == "not_run" and record["score"] == 0
    assert record["problem"]["kind"] == "wrong_exercise"
    assert "for exercise 'ablation', not 'tiny'" in record["problem"]["message"]
    assert record["cells"] == [] and record["timings"]["total"] < 10
    assert_good_graded(summary, "alice")


# --- zips -----------------------------------------------------------------------------------------------------------

def test_zip_bomb_is_refused_before_writing(grade, make_submission, tmp_path, monkeypatch):
    """Is a zip whose members add up past the cap (each under the member cap) refused from its central
    directory, with nothing of it left on disk, while the notebooks next to it are graded?"""
    monkeypatch.setattr(unpack_module, "MAX_TOTAL_BYTES", 300_000)
    good = make_submission("alice.ipynb")
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for i in range(20):
            z.writestr(f"s{i}_{i}_1_tiny.ipynb", b" " * 50_000)
    summary = grade([good, bomb])
    assert_good_graded(summary, "alice")
    assert any(i.startswith("bomb.zip: its notebooks would unpack to") for i in summary.ignored)
    inputs = tmp_path / "out" / "inputs"
    assert not inputs.exists() or not any(p.is_file() for p in inputs.rglob("*"))


def test_a_non_zip_zip_is_refused_alone(grade, make_submission, tmp_path):
    """Does a '.zip' that is not a zip beside good notebooks get refused by name, the rest graded?"""
    good = make_submission("alice.ipynb")
    fake = tmp_path / "submissions" / "canvas.zip"
    fake.write_bytes(b"<html>session expired</html>")
    summary = grade([good, fake])
    assert_good_graded(summary, "alice")
    assert summary.ignored == ("canvas.zip: not a readable zip file (File is not a zip file)",)


def test_zip_members_that_flatten_to_one_name_are_both_kept(grade, course, tmp_path):
    """Are 'a/x.ipynb' and 'a__x.ipynb' both graded rather than one silently dropped?"""
    one = write_submission(template_of(course), tmp_path / "nb" / "one.ipynb").read_bytes()
    two = write_submission(template_of(course), tmp_path / "nb" / "two.ipynb",
                           predict="def predict(X):\n    return X[:, 0] > 9").read_bytes()
    archive = tmp_path / "subs.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("a/x.ipynb", one)
        z.writestr("a__x.ipynb", two)
    summary = grade([archive])
    book = gradebook(summary)
    assert sorted(row["file"] for row in book.values()) == ["subs.zip:a/x.ipynb", "subs.zip:a__x.ipynb"]
    assert sorted(row["score"] for row in book.values()) == ["5", "7"]


def test_canvas_zip_with_a_folder_and_an_apostrophe_keeps_canvas_ids(grade, course, tmp_path):
    """Does a Canvas zip with a top-level folder and a name with an apostrophe give the Canvas user ids?"""
    data = write_submission(template_of(course), tmp_path / "nb" / "x.ipynb").read_bytes()
    archive = tmp_path / "submissions.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("submissions/o'brienpat_12345_6789_tiny.ipynb", data)
        z.writestr("submissions/doejohn_LATE_23456_7890_tiny.ipynb", data)
    summary = grade([archive])
    book = gradebook(summary)
    assert set(book) == {"12345", "23456"}
    assert book["12345"]["name"] == "o'brienpat" and book["12345"]["score"] == "7"


def test_zip_inside_a_folder_is_named_not_skipped_silently(tmp_path):
    """Is a zip found inside a submissions folder reported (it is not unpacked) rather than silently skipped?"""
    (tmp_path / "subs" / "late").mkdir(parents=True)
    (tmp_path / "subs" / "alice.ipynb").write_bytes(NOTEBOOK)
    with zipfile.ZipFile(tmp_path / "subs" / "late" / "more.zip", "w") as z:
        z.writestr("bob.ipynb", NOTEBOOK)
    found = find_submissions([tmp_path / "subs"], inputs_dir=tmp_path / "in")
    assert [f.student_id for f in found.files] == ["alice"]
    assert found.ignored == ("late/more.zip: a zip inside a folder is not unpacked (pass the zip itself to grade "
                             "its notebooks)",)


def test_unpacked_zips_in_the_output_folder_are_not_graded_twice(grade, course, tmp_path):
    """With the output folder inside the submissions folder, is a zip's unpacked copy (out/inputs) left alone on
    the next run instead of being found again as more submissions?"""
    data = write_submission(template_of(course), tmp_path / "nb" / "x.ipynb").read_bytes()
    folder = tmp_path / "work"
    folder.mkdir()
    with zipfile.ZipFile(folder / "subs.zip", "w") as z:
        z.writestr("doejohn_12345_1_tiny.ipynb", data)
    run = grader(course, folder / "grades")
    run([folder / "subs.zip"])
    assert any((folder / "grades" / "inputs").rglob("*.ipynb"))
    with pytest.raises(Exception, match="no notebooks found"):
        find_submissions([folder], inputs_dir=folder / "grades" / "inputs")


def test_moodle_zip_with_a_folder_per_student_keeps_moodle_ids(tmp_path):
    """Does a Moodle zip (a folder per student, names with an apostrophe) give the Moodle ids and names?"""
    archive = tmp_path / "moodle.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("Pat O'Brien_4711_assignsubmission_file_/tiny.ipynb", NOTEBOOK)
        z.writestr("Jane Roe_4712_assignsubmission_file_/tiny.ipynb", NOTEBOOK)
    found = find_submissions([archive], inputs_dir=tmp_path / "in")
    assert [(f.student_id, f.name, f.id_source) for f in found.files] == [
        ("4711", "Pat O'Brien", "moodle"), ("4712", "Jane Roe", "moodle")]


# --- identity -------------------------------------------------------------------------------------------------------

def test_look_alike_ids_and_metadata_conflicts_are_shown(grade, course, tmp_path):
    """Are 'bоb' (Cyrillic о) next to 'bob', and a Canvas file whose metadata names someone else, flagged in the
    gradebook's needs_review and explained on the summary page?"""
    folder = tmp_path / "subs"
    for name in ("bob.ipynb", "b\u043eb.ipynb", "alice.ipynb"):
        write_submission(template_of(course), folder / name)
    write_submission(template_of(course), folder / "roe_777_1_tiny.ipynb", metadata={"student_id": "s042"})
    summary = grade([folder])
    book = gradebook(summary)
    assert set(book) == {"bob", "b\u043eb", "alice", "777"}
    assert all(book[s]["score"] == "7" for s in book)
    for sid in ("bob", "b\u043eb", "777"):
        assert "identity" in book[sid]["needs_review"].split()
    assert "identity" not in book["alice"]["needs_review"]
    page = summary.summary.read_text(encoding="utf-8")
    assert "CYRILLIC SMALL LETTER O" in page and "metadata says &#x27;s042&#x27;" in page


def test_skeleton_maps_look_alikes():
    """Do look-alike, invisible and full-width characters reduce to the same skeleton, and different ids not?"""
    assert skeleton("b\u043eb") == skeleton("BOB") == skeleton("b\u200bob") == skeleton("\uff42ob") == "bob"
    assert skeleton("bob") != skeleton("rob")


def test_readable_names():
    """Are non-UTF-8 bytes of a file name shown as Latin-1, and valid names unchanged?"""
    assert readable(os.fsdecode(b"M\xfcller")) == "Müller"
    assert readable("Jürgen") == "Jürgen"
    assert readable("\ud800x") == "?x"


def test_formula_like_ids_are_neutralised_in_the_gradebook(grade, course, tmp_path):
    """Are ids starting with =, +, -, @ written so that no spreadsheet evaluates them?"""
    folder = tmp_path / "subs"
    for name in ("=cmd.ipynb", "+1.ipynb", "-2.ipynb", "@sum.ipynb"):
        write_submission(template_of(course), folder / name)
    book = gradebook(grade([folder]))
    assert set(book) == {"'=cmd", "'+1", "'-2", "'@sum"}


def test_unreadable_inputs_alone_are_one_clear_error(tmp_path):
    """When every input is refused, does the error say why rather than only 'no notebooks'?"""
    (tmp_path / "x.zip").write_bytes(b"nope")
    with pytest.raises(Exception, match="no notebooks found.*x.zip: not a readable zip"):
        find_submissions([tmp_path / "x.zip"], inputs_dir=tmp_path / "in")


# --- the command line -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("out", ["a-file", "a-file/below", "/proc/dlgrade-test/out"])
def test_impossible_output_folder_is_one_line_with_a_hint(course, tmp_path, monkeypatch, capsys, out):
    """Does an output folder that is a file, lies below a file or cannot be made give one error line and a hint
    (exit 2), not a traceback?"""
    import sys

    from dlgrade.cli import main

    (tmp_path / "a-file").write_text("not a folder")
    monkeypatch.chdir(tmp_path)
    sample = course / "autograder" / "tiny" / "samples" / "good.ipynb"
    monkeypatch.setattr(sys, "argv", ["dlgrade", "grade", str(sample), "-e", "tiny", "--course", str(course),
                                      "--out", out, "--sandbox", "none"])
    with pytest.raises(SystemExit) as info:
        main()
    err = capsys.readouterr().err
    assert info.value.code == 2, err
    assert "Traceback" not in err
    line = next(line for line in err.splitlines() if line.startswith("error:"))
    assert line.startswith("error: cannot use ") and out.split("/")[0] in line
    assert any(line.startswith("hint: ") for line in err.splitlines())


def test_ctrl_c_prints_a_line_and_exits_130(course, tmp_path, monkeypatch, capsys):
    """Does Ctrl-C during grading print a line saying what happened and exit with status 130 (typer alone exits
    130 without a word)?"""
    import sys

    import dlgrade.grade
    from dlgrade.cli import main

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(dlgrade.grade, "main", interrupted)
    monkeypatch.setattr(sys, "argv", ["dlgrade", "grade", str(tmp_path), "-e", "tiny", "--course", str(course)])
    with pytest.raises(SystemExit) as info:
        main()
    err = capsys.readouterr().err
    assert info.value.code == 130
    assert err.startswith("interrupted") and "Traceback" not in err
