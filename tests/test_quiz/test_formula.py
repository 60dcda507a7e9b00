"""The safe arithmetic evaluator for parameterised keys (dlgrade.quiz.formula)."""
from __future__ import annotations

import pytest

from dlgrade.quiz import formula as fx


def test_lesson_parameter_count_is_computed():
    """Does the MLP formula give the lesson's 535,818 for 784-512-256-10?"""
    assert fx.evaluate("784*h1 + h1 + h1*h2 + h2 + h2*10 + 10", {"h1": 512, "h2": 256}) == 535818


@pytest.mark.parametrize("expr", ["__import__('os').system('true')", "a.real", "[a]", "a if a else 1",
                                  "lambda: 1", "'x' * 3", "2 ** 1000", "f(a)", "a < 2", "True + 1"])
def test_anything_but_arithmetic_is_refused(expr):
    """Are calls, attributes, containers, strings, comparisons and huge powers rejected?"""
    with pytest.raises(fx.FormulaError):
        fx.evaluate(expr, {"a": 1})


def test_unknown_names_and_division_by_zero_are_errors():
    """Do a missing parameter and 1/0 raise FormulaError rather than crash?"""
    with pytest.raises(fx.FormulaError, match="unknown name"):
        fx.evaluate("a + b", {"a": 1})
    with pytest.raises(fx.FormulaError, match="division by zero"):
        fx.evaluate("a / (b - b)", {"a": 1, "b": 2})
    assert fx.names("k*k*cin*cout + cout") == {"k", "cin", "cout"}
