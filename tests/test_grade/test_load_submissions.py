"""Finding submissions: LMS file names, zips, student ids and duplicates."""
from __future__ import annotations

import stat
import zipfile

import pytest

from dlgrade.errors import DlgradeError
from dlgrade.grade import unpack_zip as unpack_module
from dlgrade.grade.load_submissions import find_submissions, identify, safe_stem
from dlgrade.grade.unpack_zip import flat_name, unpack_zip

NOTEBOOK = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'


@pytest.mark.parametrize("file_name, student_id, name, source", [
    ("doejohn_12345_6789012_tiny.ipynb", "12345", "doejohn", "canvas"),
    ("doejohn_LATE_12345_6789012_tiny-1.ipynb", "12345", "doejohn", "canvas"),
    ("Jane Roe_4711_assignsubmission_file_tiny.ipynb", "4711", "Jane Roe", "moodle"),
    ("alice.ipynb", "alice", "", "file name"),
    ("Bob.IPYNB", "Bob", "", "file name"),
])
def test_student_id_from_the_file_name(tmp_path, file_name, student_id, name, source):
    """Is the student id read from Canvas and Moodle download names, and the plain file name otherwise?"""
    path = tmp_path / file_name
    path.write_bytes(NOTEBOOK)
    found = identify(path, file_name)
    assert (found.student_id, found.name, found.id_source) == (student_id, name, source)


def test_metadata_id_is_used_but_never_over_the_lms_name(tmp_path):
    """Does metadata.dlgrade.student_id name a plain file, while a Canvas name (written by the LMS) wins?"""
    meta = b'{"cells": [], "metadata": {"dlgrade": {"student_id": "s042"}}, "nbformat": 4, "nbformat_minor": 5}'
    (tmp_path / "homework.ipynb").write_bytes(meta)
    (tmp_path / "roe_777_1_homework.ipynb").write_bytes(meta)
    assert identify(tmp_path / "homework.ipynb", "").student_id == "s042"
    assert identify(tmp_path / "roe_777_1_homework.ipynb", "").student_id == "777"


def test_a_metadata_id_never_takes_another_students_file_name(tmp_path):
    """A student writes a classmate's id into the notebook's metadata: does the classmate's file keep its id and
    its score (no duplicate), while the claiming file is graded under its own name with a note saying why? Two
    plain files that only their metadata names still get the metadata ids."""
    claim = b'{"cells": [], "metadata": {"dlgrade": {"student_id": "alice"}}, "nbformat": 4, "nbformat_minor": 5}'
    (tmp_path / "alice.ipynb").write_bytes(NOTEBOOK)
    (tmp_path / "mallory.ipynb").write_bytes(claim)
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "homework.ipynb").write_bytes(claim.replace(b"alice", b"s1"))
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "homework.ipynb").write_bytes(claim.replace(b"alice", b"s2"))
    found = find_submissions([tmp_path], inputs_dir=tmp_path / "inputs")
    assert [(f.student_id, f.id_source) for f in found.files] == [
        ("alice", "file name"), ("mallory", "file name"), ("s1", "metadata"), ("s2", "metadata")]
    assert found.duplicates == {}
    (mallory,) = [f for f in found.files if f.student_id == "mallory"]
    assert any("metadata says student 'alice', whose own file is in the batch" in n for n in mallory.notes)
    (alice,) = [f for f in found.files if f.student_id == "alice"]     # both rows are flagged for a look
    assert alice.notes == ("the metadata of mallory.ipynb also says student 'alice'; check which file is theirs",)


def test_canvas_zip_is_unpacked_and_named(tmp_path):
    """Does a Canvas zip give one submission per notebook with Canvas ids, ignoring other files?"""
    archive = tmp_path / "submissions.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("doejohn_12345_6789012_tiny.ipynb", NOTEBOOK)
        z.writestr("roejane_LATE_23456_7890123_tiny.ipynb", NOTEBOOK)
        z.writestr("roejane_23456_7890124_notes.txt", b"hello")
        z.writestr("__MACOSX/._doejohn_12345_6789012_tiny.ipynb", b"junk")
    found = find_submissions([archive], inputs_dir=tmp_path / "inputs")
    assert [(f.student_id, f.origin) for f in found.files] == [
        ("12345", "submissions.zip:doejohn_12345_6789012_tiny.ipynb"),
        ("23456", "submissions.zip:roejane_LATE_23456_7890123_tiny.ipynb")]
    assert all(f.path.is_relative_to(tmp_path / "inputs") for f in found.files)
    assert sorted(i.split(":", 1)[1].split(":")[0] for i in found.ignored) == [
        "__MACOSX/._doejohn_12345_6789012_tiny.ipynb", "roejane_23456_7890124_notes.txt"]


def test_utf8_names_written_without_the_zip_flag_are_read_as_utf8(tmp_path):
    """Linux's `zip` writes UTF-8 names without the flag that says so: is ``müller`` read as such, not as
    cp437 (``m├╝ller``), in the student's name and the origin?"""
    archive = tmp_path / "submissions.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("mXXller_101_9001_tiny.ipynb", NOTEBOOK)        # ASCII: stored without the UTF-8 flag
    data = archive.read_bytes()
    archive.write_bytes(data.replace(b"mXXller", "müller".encode()))   # the same length in UTF-8 bytes
    found = find_submissions([archive], inputs_dir=tmp_path / "inputs")
    assert [(f.student_id, f.name, f.origin) for f in found.files] == [
        ("101", "müller", "submissions.zip:müller_101_9001_tiny.ipynb")]
    assert found.files[0].path.read_bytes() == NOTEBOOK


def test_zip_members_cannot_escape_the_folder(tmp_path):
    """Are '../', absolute paths and links in a zip kept inside the extraction folder (or left out)?"""
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("../../escape.ipynb", NOTEBOOK)
        z.writestr("/etc/absolute.ipynb", NOTEBOOK)
        link = zipfile.ZipInfo("link.ipynb")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        z.writestr(link, "/etc/passwd")
    dest = tmp_path / "a" / "b" / "dest"
    unpacked = unpack_zip(archive, dest)
    assert sorted(p.name for p, _ in unpacked.files) == ["escape.ipynb", "etc__absolute.ipynb"]
    assert all(p.parent == dest for p, _ in unpacked.files)
    assert not (tmp_path / "escape.ipynb").exists() and not (tmp_path / "a" / "escape.ipynb").exists()
    assert any("link" in i for i in unpacked.ignored)
    assert flat_name("../a/./b.ipynb") == "a__b.ipynb"


def test_zip_bomb_stops_at_the_size_cap(tmp_path, monkeypatch):
    """Is a member that inflates past the cap left out, counting real bytes rather than the header's claim?"""
    monkeypatch.setattr(unpack_module, "MAX_MEMBER_BYTES", 10_000)
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("big.ipynb", b" " * 1_000_000)
        z.writestr("ok.ipynb", NOTEBOOK)
    unpacked = unpack_zip(archive, tmp_path / "dest")
    assert [p.name for p, _ in unpacked.files] == ["ok.ipynb"]
    assert any("big.ipynb" in i and "larger than" in i for i in unpacked.ignored)


def test_duplicates_are_reported_not_merged(tmp_path):
    """Do two files for one student both stay, each with its own output name, and get reported?"""
    (tmp_path / "doejohn_12345_1_tiny.ipynb").write_bytes(NOTEBOOK)
    (tmp_path / "doejohn_12345_2_tiny-1.ipynb").write_bytes(NOTEBOOK + b" ")
    (tmp_path / "roejane_23456_3_tiny.ipynb").write_bytes(NOTEBOOK)
    found = find_submissions([tmp_path], inputs_dir=tmp_path / "inputs")
    assert found.duplicates == {"12345": ("doejohn_12345_1_tiny.ipynb", "doejohn_12345_2_tiny-1.ipynb")}
    names = sorted(f.result_name for f in found.files)
    assert len(names) == 3 and names[2] == "23456" and all(n.startswith("12345-") for n in names[:2])


def test_duplicate_students_get_no_silent_score(grade, make_submission, read_result):
    """Is a student with two files graded on both, with a blank gradebook score and status 'duplicate'?"""
    a = make_submission("doejohn_12345_1_tiny.ipynb")
    b = make_submission("doejohn_12345_2_tiny-1.ipynb", predict="def predict(X):\n    return X[:, 0] > 9")
    summary = grade([a, b])
    assert summary.duplicates == {"12345": (a.name, b.name)}
    row = summary.gradebook.read_text().splitlines()[1].split(",")
    assert row[:7] == ["12345", "doejohn", "", "7", "", "duplicate", ""]
    scores = sorted(read_result(summary, p.stem)["score"] for p in (summary.out / "results").glob("*.json"))
    assert scores == [5, 7]
    assert "several files" in summary.summary.read_text()


def test_a_duplicate_students_answers_are_not_counted_to_review(grade, make_submission):
    """`dlgrade review` lists a student with several files only once they are resolved: do the terminal and
    the summary page count only the answers it lists (here one student, one answer)?"""
    paths = [make_submission("doejohn_12345_1_tiny.ipynb", answer="Overfitting."),
             make_submission("doejohn_12345_2_tiny-1.ipynb", answer="Overfitting."),
             make_submission("roeann_678_3_tiny.ipynb", answer="Overfitting.")]
    summary = grade(paths)
    assert summary.needs_review == ("678",)
    assert "1 answer(s) to review" in summary.summary.read_text()


def test_file_name_safe_output_names():
    """Are ids with odd characters turned into distinct, safe file stems?"""
    assert safe_stem("12345") == "12345"
    odd = [safe_stem("../etc/passwd"), safe_stem("a b"), safe_stem("a_b"), safe_stem("a/b")]
    assert all("/" not in s and not s.startswith(".") for s in odd)
    assert len(set(odd)) == len(odd)


def test_missing_path_and_empty_folder_are_clear_errors(tmp_path):
    """Do a path that does not exist and a folder without notebooks stop with one clear message?"""
    with pytest.raises(DlgradeError, match="no such file"):
        find_submissions([tmp_path / "nope"], inputs_dir=tmp_path / "i")
    with pytest.raises(DlgradeError, match="no notebooks found"):
        find_submissions([tmp_path], inputs_dir=tmp_path / "i")
