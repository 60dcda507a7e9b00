"""Turning solution regions into student stubs."""
from __future__ import annotations

import json

from dlgrade.errors import SpecError
from dlgrade.harness.notebook import ANSWER_PLACEHOLDER as MD_PLACEHOLDER

BEGIN, END, HINT = "### BEGIN SOLUTION", "### END SOLUTION", "### HINT:"
MD_BEGIN, MD_END = "<!-- BEGIN SOLUTION -->", "<!-- END SOLUTION -->"


def stub_code(source: str, where: str) -> str:
    """Replace each solution region of a code cell by a NotImplementedError stub."""
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
            out.extend(f"{indent}# Hint: {h}" for h in hints)
            out.append(f"{indent}# YOUR CODE HERE")
            message = " ".join(hints) or "complete this part"
            out.append(f"{indent}raise NotImplementedError({json.dumps(message)})")
            region = None
        elif region is not None:
            region.append(line)
        else:
            out.append(line)
    if region is not None:
        raise SpecError(f"{where}: '{BEGIN}' without '{END}'")
    return "\n".join(out)


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
