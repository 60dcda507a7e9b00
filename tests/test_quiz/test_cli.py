"""The thin ``dlgrade quiz`` commands, driven with typer's CliRunner."""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from dlgrade.cli import app

from .conftest import BANK

pytest.importorskip("dlgrade.cli.quiz")
runner = CliRunner()


def test_list_shows_every_quiz(monkeypatch):
    """Does `quiz list` print each quiz id with its question count?"""
    result = runner.invoke(app, ["quiz", "list", "--bank", str(BANK)])
    assert result.exit_code == 0, result.output
    for qid in ("interview", "concepts", "numbers"):
        assert qid in result.output


def test_take_reads_answers_from_stdin_and_saves(tmp_path):
    """Can `quiz take` be driven through stdin and write a responses file that `quiz grade` grades?"""
    save = tmp_path / "r.json"
    result = runner.invoke(app, ["quiz", "take", "numbers", "--bank", str(BANK), "--student", "cli-1",
                                 "--save", str(save)], input="535818\n" * 30)
    assert result.exit_code == 0, result.output
    assert "Correct" in result.output and "points" in result.output
    assert json.loads(save.read_text())["responses"][0]["answers"]["mlp-params-lesson"] == "535818"
    out = tmp_path / "graded"
    result = runner.invoke(app, ["quiz", "grade", "numbers", str(save), "--bank", str(BANK), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "gradebook.csv").read_text().splitlines()[1].startswith("cli-1,")


def test_export_writes_the_requested_format(tmp_path):
    """Does `quiz export -f gift` write a GIFT file where asked?"""
    target = tmp_path / "x.gift"
    result = runner.invoke(app, ["quiz", "export", "concepts", "-f", "gift", "-o", str(target), "--bank", str(BANK)])
    assert result.exit_code == 0, result.output
    assert "$CATEGORY:" in target.read_text()


def test_known_errors_are_one_line_without_traceback(tmp_path, monkeypatch):
    """Does a bad responses file end with the CLI's one-line error and exit status 2?"""
    import sys

    from dlgrade.cli import main

    bad = tmp_path / "r.csv"
    bad.write_text("student_id,nope\ns1,x\n")
    monkeypatch.setattr(sys, "argv", ["dlgrade", "quiz", "grade", "numbers", str(bad), "--bank", str(BANK)])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2


def test_answers_outside_a_students_variant_are_named_on_the_terminal(tmp_path):
    """A responses report from an LMS answers pool questions that dlgrade did not draw for that student: does
    `quiz grade` warn on the terminal (not only in the student's feedback file) and point at the LMS route?"""
    from dlgrade.quiz.session import resolve_quiz

    ids = [q.id for q in resolve_quiz("concepts", BANK).all_questions()]
    responses = tmp_path / "lms.csv"
    responses.write_text("student_id," + ",".join(ids) + "\ns1," + ",".join("A" for _ in ids) + "\n")
    result = runner.invoke(app, ["quiz", "grade", "concepts", str(responses), "--bank", str(BANK),
                                 "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "warning: 1 student(s) answered questions outside their own variant" in result.output
    assert "graded by the LMS itself" in result.output
    mine = tmp_path / "mine.csv"
    mine.write_text("student_id,xor-mlp-why\ns1,A\n")
    result = runner.invoke(app, ["quiz", "grade", "concepts", str(mine), "--bank", str(BANK),
                                 "--out", str(tmp_path / "out2")])
    assert result.exit_code == 0 and "warning" not in result.output, result.output
