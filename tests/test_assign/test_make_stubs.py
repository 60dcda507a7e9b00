"""Solution regions become stubs."""
import pytest

from dlgrade.assign.make_stubs import stub_code, stub_markdown
from dlgrade.errors import SpecError


def test_region_becomes_not_implemented_with_hint_and_indent():
    """Does a solution region become an indented NotImplementedError carrying the hint?"""
    src = ("def f(x):\n    ### BEGIN SOLUTION\n    ### HINT: use np.dot\n    return x @ x\n"
           "    ### END SOLUTION\n")
    out = stub_code(src, "nb")
    assert "return x @ x" not in out
    assert '    raise NotImplementedError("use np.dot")' in out
    assert "    # Hint: use np.dot" in out
    ns = {}
    exec(out, ns)
    with pytest.raises(NotImplementedError, match="use np.dot"):
        ns["f"](1)


@pytest.mark.parametrize("src, message", [
    ("### BEGIN SOLUTION\nx = 1\n", "without '### END"),
    ("x = 1\n### END SOLUTION\n", "without '### BEGIN"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n", "nested"),
])
def test_unbalanced_markers_name_the_cell(src, message):
    """Are broken markers a spec error naming where they are?"""
    with pytest.raises(SpecError, match=message) as info:
        stub_code(src, "solutions/x.ipynb: cell 3")
    assert "cell 3" in str(info.value)


def test_markdown_answer_region_becomes_placeholder():
    """Is a written answer replaced by a placeholder, keeping the prompt?"""
    out = stub_markdown("**Q5.** Why?\n<!-- BEGIN SOLUTION -->\nLocality.\n<!-- END SOLUTION -->", "nb")
    assert "Locality" not in out and "Why?" in out and "Write your answer here" in out
