"""Reading notebooks as the grader does."""
import json

import nbformat
import pytest

from dlgrade.errors import SubmissionError
from dlgrade.harness.notebook import (code_cells, read_notebook, restore_locked, run_cells,
                                      short_answers, strip_magics)
from tests.conftest import make_notebook


@pytest.mark.parametrize("content, message", [
    (b"", "empty"),
    (b"{not json", "invalid JSON"),
    (b"\xff\xfe\x00", "not UTF-8"),
    (b'{"a": 1}', "no 'cells'"),
    (json.dumps({"cells": [], "nbformat": 4, "nbformat_minor": 5, "metadata": {}}).encode(), "no cells"),
])
def test_bad_files_get_one_clear_message(tmp_path, content, message):
    """Does each kind of broken file give a SubmissionError naming the file and the problem?"""
    path = tmp_path / "student.ipynb"
    path.write_bytes(content)
    with pytest.raises(SubmissionError, match=message) as info:
        read_notebook(path)
    assert str(path) in str(info.value)


def _cells(*cells) -> bytes:
    return json.dumps({"cells": list(cells), "nbformat": 4, "nbformat_minor": 5, "metadata": {}}).encode()


@pytest.mark.parametrize("cell, message", [
    ({"source": "x = 1", "metadata": {}}, "cell 2 has no cell_type"),
    ({"cell_type": "code", "metadata": {}, "outputs": []}, "cell 2 has no source"),
    ({"cell_type": "markdown", "source": 5, "metadata": {}}, "cell 2 has a source that is not text"),
    ({"cell_type": "widget", "source": "", "metadata": {}}, "cell 2 has an unknown cell_type 'widget'"),
    ({"cell_type": "code", "source": ["a", 1], "metadata": {}, "outputs": []}, "cell 2 has a source that is not"),
    ("x = 1", "cell 2 is not a JSON object"),
])
def test_cells_that_break_the_format_make_the_file_unreadable(tmp_path, cell, message):
    """nbformat only logs a notebook that breaks its schema: is a cell without a type or a source one clear
    SubmissionError naming the file and the cell, rather than an error deep in the grader?"""
    path = tmp_path / "student.ipynb"
    path.write_bytes(_cells({"cell_type": "code", "source": "import numpy", "metadata": {}, "outputs": []}, cell))
    with pytest.raises(SubmissionError, match=message) as info:
        read_notebook(path)
    assert str(path) in str(info.value)


def test_old_nbformat_is_upgraded(tmp_path):
    """Is an nbformat 3 notebook read (converted) rather than rejected?"""
    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {},
          "worksheets": [{"cells": [{"cell_type": "code", "input": "x = 1", "outputs": [],
                                     "language": "python", "metadata": {}}]}]}
    path = tmp_path / "old.ipynb"
    path.write_text(json.dumps(v3))
    nb = read_notebook(path)
    assert nb.nbformat == 4 and nb.cells[0].source == "x = 1"


def test_magics_and_shell_lines_become_pass():
    """Are `!pip install` and `%magic` lines neutralised, keeping indentation and other code?"""
    code, n = strip_magics("!pip install torch\nif True:\n    %time x = 1\ny = 2")
    assert n == 2
    compile(code, "<cell>", "exec")
    assert "y = 2" in code and "pip install" in code.splitlines()[0]


def test_cells_run_in_order_errors_do_not_stop_the_rest():
    """Does an error or sys.exit in one cell leave later cells running, and skipped roles skipped?"""
    nb = make_notebook("a = 1", "1/0", "import sys; sys.exit(3)", ("heavy()", "train"), "b = a + 1")
    ns = {}
    runs = run_cells(code_cells(nb), ns)
    assert [s for _, s, _ in runs] == ["ok", "error", "error", "skipped", "ok"]
    assert ns["b"] == 2
    assert "ZeroDivisionError" in runs[1][2] and "sys.exit" in runs[2][2]


def test_locked_cells_are_restored_and_roles_come_from_template():
    """Does an edited or deleted locked cell come back, and can't a student re-role a cell?"""
    template = make_notebook(("DLGRADE_EXERCISE = 'x'", "setup"), ("answer = None", "answer"),
                             ("check('q1')", "check"), ("heavy()", "train"))
    student = nbformat.from_dict(json.loads(nbformat.writes(template)))
    student.cells[0].source = "cheat = True"
    del student.cells[2]
    student.cells[2].metadata["dlgrade"] = {"role": "answer"}  # try to un-skip the training cell
    messages = restore_locked(student, template)
    assert student.cells[0].source == "DLGRADE_EXERCISE = 'x'"
    assert [c.source for c in student.cells].count("check('q1')") == 1
    assert student.cells[3].metadata["dlgrade"]["role"] == "train"
    assert len(messages) == 2


def test_html_comments_are_dropped_in_one_pass():
    """Are closed HTML comments replaced by a space (an unclosed one kept), as the regular expression
    ``<!--.*?-->`` would, also for an answer of 400,000 unclosed ``<!--`` (quadratic for that expression)?"""
    import re

    from dlgrade.harness.notebook import without_comments

    lazy = re.compile(r"<!--.*?-->", re.DOTALL)
    for text in ("a<!-- x -->b", "<!--<!-- x -->--> y", "a <!-- open", "<!---->", "x<!-- a -->y<!-- b -->z<!--",
                 "<!-->", "<!--->", "<!-- line\nbreak -->end", ""):
        assert without_comments(text) == lazy.sub(" ", text), text
    assert without_comments("<!--" * 400_000 + "-->") == " "


def test_short_answers_are_read_by_question():
    """Are Markdown answers collected under their question id?"""
    nb = make_notebook(("md", "Because of locality.", "short_answer", "q5"), ("md", "context"),
                       ("md", "<!-- hidden -->\n*Write your answer here.*", "short_answer", "q6"))
    assert short_answers(nb) == {"q5": "Because of locality.", "q6": ""}
