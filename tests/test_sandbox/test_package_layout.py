"""The sandbox package's shape: small modules, public interfaces between them, layers that do not
reach up into the stages."""
from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "dlgrade"
SANDBOX = SRC / "sandbox"
MAX_LINES = 320
MOVED = ("sandbox", "remote", "worker", "child", "bwrap", "limits", "leftovers")
"""Modules of ``dlgrade.grade`` that now live in ``dlgrade.sandbox``."""


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_of(path: Path) -> str:
    return module_name(path) if path.name == "__init__.py" else module_name(path).rsplit(".", 1)[0]


def imported(tree: ast.AST, package: str) -> list[tuple[int, str, list[str]]]:
    """(line, absolute module, names) for every import in ``tree``, a module of ``package`` (relative
    imports resolved, those inside functions too)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = parts[:len(parts) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.append((node.lineno, base, [alias.name for alias in node.names]))
    return found


def private_uses(source: str, module: str) -> list[str]:
    """``_private`` names of another ``dlgrade.sandbox`` module that ``source`` (the module ``module``)
    imports or reaches through an imported module."""
    tree = ast.parse(source)
    problems, aliases = [], {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("dlgrade.sandbox.") and alias.name != module:
                    aliases[alias.asname or alias.name] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("dlgrade.sandbox"):
            for alias in node.names:
                target = f"{node.module}.{alias.name}"
                if alias.name.startswith("_") and not alias.name.startswith("__") and node.module != module:
                    problems.append(f"line {node.lineno}: imports {target}")
                elif node.module == "dlgrade.sandbox" and target != module:  # a submodule
                    aliases[alias.asname or alias.name] = target
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            owner = dotted(node.value)
            if owner in aliases:
                problems.append(f"line {node.lineno}: uses {aliases[owner]}.{node.attr}")
    return problems


def dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def test_no_sandbox_module_is_long():
    """Is every module of the sandbox package short enough to read in one sitting?"""
    long = {p.name: n for p in SANDBOX.glob("*.py") if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, f"over {MAX_LINES} lines: {long}"


def test_no_module_uses_a_private_name_of_a_sandbox_module():
    """Does every module of dlgrade use only the public names of the sandbox's modules?"""
    problems = []
    for path in sorted(SRC.rglob("*.py")):
        problems += [f"{path.relative_to(SRC)} {p}" for p in private_uses(path.read_text(), module_name(path))]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("source", "caught"), [
    ("from dlgrade.sandbox.worker import _visible", True),
    ("from dlgrade.sandbox import mounts\nmounts._roots([], [])", True),
    ("import dlgrade.sandbox.bwrap as b\nb._locked_ancestor(None)", True),
    ("import dlgrade.sandbox.bwrap\ndlgrade.sandbox.bwrap._locked_ancestor(None)", True),
    ("from dlgrade.sandbox import mounts\nmounts.plan_mounts\nself._box", False),
])
def test_the_private_name_check_can_fail(source, caught):
    """Does the check above catch a private name imported or reached through a sandbox module?"""
    assert bool(private_uses(source, "dlgrade.other")) is caught


@pytest.mark.parametrize(("layer", "forbidden"), [
    ("check", ("dlgrade.grade",)),
    ("sandbox", ("dlgrade.grade", "dlgrade.check")),
])
def test_lower_layers_do_not_import_stages(layer, forbidden):
    """Does ``check`` import nothing of ``grade``, and the sandbox nothing of either (lazy imports too)?"""
    problems = []
    for path in sorted((SRC / layer).rglob("*.py")):
        for line, module, names in imported(ast.parse(path.read_text()), package_of(path)):
            full = [module] + [f"{module}.{n}" for n in names]
            if any(m == f or m.startswith(f + ".") for m in full for f in forbidden):
                problems.append(f"{path.relative_to(SRC)}:{line} imports {module}")
    assert not problems, "\n".join(problems)


def test_the_import_check_sees_relative_and_lazy_imports():
    """Are relative imports resolved and imports inside functions found, so the check above can fail?"""
    tree = ast.parse("def f():\n    from ..grade import pipeline\n    from . import report\n")
    assert [m for _, m, _ in imported(tree, "dlgrade.check")] == ["dlgrade.grade", "dlgrade.check"]


def test_moved_modules_are_gone():
    """Are the sandbox's old modules under ``dlgrade.grade`` removed, with no copy left behind?"""
    assert [m for m in MOVED if importlib.util.find_spec(f"dlgrade.grade.{m}") is not None] == []
