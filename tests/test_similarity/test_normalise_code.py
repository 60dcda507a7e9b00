"""What survives normalisation, and what a copier can change without changing the tokens."""
from __future__ import annotations

from dlgrade.similarity.normalise_code import normalise

ORIGINAL = '''
def total(values, scale=2.0):
    """Sum of scaled values."""
    acc = 0  # running sum
    for v in values:
        acc += v * scale
    return acc
'''
DISGUISED = '''
def total(xs,   factor=3.5):
    # a comment where there was none

    s = 10
    for item in xs:   # loop
        s += item * factor


    return s
'''


def texts(source, keep=frozenset({"total"})):
    return [t.text for t in normalise(source, keep=keep)]


def test_renamed_variables_comments_docstrings_and_blank_lines_do_not_change_the_tokens():
    """Do renaming, new comments, a dropped docstring, blank lines, spacing and other literals of the same
    kind give the same tokens?"""
    assert texts(ORIGINAL) == texts(DISGUISED)


def test_structure_and_attribute_names_stay():
    """Are keywords, builtins, attribute names and the template's names kept, so different code differs?"""
    tokens = texts("import numpy as np\ny = np.linalg.norm(x) + len(x)\n", keep=frozenset({"np"}))
    assert tokens == ["import", "V", "as", "np", ";", "V", "=", "np", ".", "linalg", ".", "norm", "(", "V", ")",
                      "+", "len", "(", "V", ")", ";"]
    assert texts("return a + b\n") != texts("return a * b\n")


def test_literals_are_bucketed_by_kind():
    """Are integers, floats and strings each one token kind, whatever their value?"""
    assert texts("f(1, 2.5, 'a' 'b', f'{x}')\n") == ["V", "(", "I", ",", "F", ",", "S", ",", "S", ")", ";"]


def test_lines_are_remembered_for_highlighting():
    """Does each token keep the line of the cell it came from?"""
    tokens = normalise("x = 1\n\n\ny = 2\n")
    assert {t.line for t in tokens if t.text == "V"} == {1, 4}


def test_code_that_does_not_parse_still_gives_tokens():
    """Is a cell with a syntax error compared too (plain word split), rather than skipped?"""
    tokens = texts("def broken(:\n    return x +\n")
    assert "return" in tokens and "V" in tokens


def test_magics_are_ignored():
    """Does a shell escape or magic line not count as the student's code?"""
    assert texts("!pip install torch\nx = 1\n") == ["pass", ";"] + texts("x = 1\n")


def test_hostile_code_is_read_not_run_and_does_not_crash():
    """Does code nested too deeply for the parser still give tokens and one chunk (never an exception)?"""
    from dlgrade.similarity.load_work import top_level

    source = "x = " + "(" * 5000 + ")" * 5000 + "\nimport os; os.system('touch /tmp/never')\n"
    assert top_level(source) == [(None, 1, 2)]
    assert len(normalise(source)) > 10000
