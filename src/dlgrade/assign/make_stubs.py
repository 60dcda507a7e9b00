"""Turning solution regions into student stubs."""
from __future__ import annotations

import json

from dlgrade.errors import SpecError
from dlgrade.harness.notebook import ANSWER_PLACEHOLDER as MD_PLACEHOLDER

BEGIN, END, HINT = "### BEGIN SOLUTION", "### END SOLUTION", "### HINT:"
MD_BEGIN, MD_END = "<!-- BEGIN SOLUTION -->", "<!-- END SOLUTION -->"


def rewrite_regions(source: str, where: str, replace) -> str:
    """``source`` with each solution region (its marker lines included) replaced by
    ``replace(indent, hints, body)``: the region's indentation, its ``### HINT:`` texts and its
    other lines. Nested or unbalanced markers are a SpecError naming ``where``."""
    out: list[str] = []
    region: list[str] | None = None
    indent = ""
    for line in source.splitlines():
        stripped = line.strip()
        if stripped == BEGIN:
            if region is not None:
                raise SpecError(f"{where}: nested '{BEGIN}'")
            region, indent = [], line[: len(line) - len(line.lstrip())]
        elif stripped == END:
            if region is None:
                raise SpecError(f"{where}: '{END}' without '{BEGIN}'")
            hints = [r.strip()[len(HINT):].strip() for r in region if r.strip().startswith(HINT)]
            out.extend(replace(indent, hints, [r for r in region if not r.strip().startswith(HINT)]))
            region = None
        elif region is not None:
            region.append(line)
        else:
            out.append(line)
    if region is not None:
        raise SpecError(f"{where}: '{BEGIN}' without '{END}'")
    return "\n".join(out)


def stub_code(source: str, where: str) -> str:
    """Replace each solution region of a code cell by a NotImplementedError stub."""
    def stub(indent: str, hints: list[str], body: list[str]) -> list[str]:
        message = " ".join(hints) or "complete this part"
        return [*(f"{indent}# Hint: {h}" for h in hints), f"{indent}# YOUR CODE HERE",
                f"{indent}raise NotImplementedError({json.dumps(message)})"]

    return rewrite_regions(source, where, stub)


def stub_markdown(source: str, where: str) -> str:
    """Replace each written-answer region of a Markdown cell by a placeholder."""
    out: list[str] = []
    inside = False
    for line in source.splitlines():
        stripped = line.strip()
        if stripped == MD_BEGIN:
            if inside:
                raise SpecError(f"{where}: nested '{MD_BEGIN}'")
            inside = True
            out.append(MD_PLACEHOLDER)
        elif stripped == MD_END:
            if not inside:
                raise SpecError(f"{where}: '{MD_END}' without '{MD_BEGIN}'")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise SpecError(f"{where}: '{MD_BEGIN}' without '{MD_END}'")
    return "\n".join(out)
