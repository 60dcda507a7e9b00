"""A tiny arithmetic evaluator for the keys of parameterised questions.

A formula such as ``784*h1 + h1 + h1*h2 + h2 + 10*h2 + 10`` is parsed with
:mod:`ast` and evaluated by walking the tree: only numbers, parameter names,
parentheses, unary minus and ``+ - * / // % **`` are accepted. Nothing is ever
passed to ``eval``.
"""
from __future__ import annotations

import ast
import operator
from typing import Mapping

_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
           ast.Pow: operator.pow}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}
MAX_EXPONENT = 64


class FormulaError(ValueError):
    """A formula that cannot be parsed or evaluated."""


def names(formula: str) -> set[str]:
    """The parameter names a formula uses; raises FormulaError when it is not allowed syntax."""
    tree = _parse(formula)
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}


def evaluate(formula: str, values: Mapping[str, float]) -> float | int:
    """Value of ``formula`` with the given parameter values."""
    return _eval(_parse(formula).body, values)


def _parse(formula: str) -> ast.Expression:
    if not isinstance(formula, str) or not formula.strip():
        raise FormulaError("formula must be a non-empty string")
    try:
        tree = ast.parse(formula.strip(), mode="eval")
    except SyntaxError as exc:
        raise FormulaError(f"cannot parse formula {formula!r}: {exc.msg}") from None
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant, ast.Name,
                                 ast.Load, *(_BINARY), *(_UNARY))):
            raise FormulaError(f"formula {formula!r} uses {type(node).__name__}: only numbers, names, "
                               "parentheses and + - * / // % ** are allowed")
        if isinstance(node, ast.Constant) and (isinstance(node.value, bool)
                                               or not isinstance(node.value, (int, float))):
            raise FormulaError(f"formula {formula!r} has a non-numeric constant {node.value!r}")
    return tree


def _eval(node: ast.AST, values: Mapping[str, float]) -> float | int:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id not in values:
            raise FormulaError(f"unknown name {node.id!r} in formula")
        return values[node.id]
    if isinstance(node, ast.UnaryOp):
        return _UNARY[type(node.op)](_eval(node.operand, values))
    if isinstance(node, ast.BinOp):
        left, right = _eval(node.left, values), _eval(node.right, values)
        if isinstance(node.op, ast.Pow) and abs(right) > MAX_EXPONENT:
            raise FormulaError(f"exponent {right} is larger than {MAX_EXPONENT}")
        try:
            return _BINARY[type(node.op)](left, right)
        except ZeroDivisionError:
            raise FormulaError("division by zero in formula") from None
    raise FormulaError(f"unsupported expression {type(node).__name__}")  # unreachable after _parse
