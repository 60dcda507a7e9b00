"""Small HTML helpers shared by the feedback and summary pages.

Everything that comes from a submission (ids, names, messages, check texts)
passes through :func:`esc`; pages are :class:`string.Template` files in
``templates/`` (a body inside ``page.html``) filled with already-escaped fragments.
"""
from __future__ import annotations

import base64
import functools
import html
from importlib import resources
from string import Template

from dlgrade.names import readable


def esc(value) -> str:
    return html.escape(readable(str(value)), quote=True)  # paths may hold bytes that are not UTF-8


@functools.cache
def _template_text(name: str) -> str:
    return (resources.files("dlgrade.grade") / "templates" / name).read_text(encoding="utf-8")


def page(name: str, *, title: str, footer: str, **parts: str) -> str:
    """Body template ``name`` filled with ``parts`` (HTML fragments), inside the shared page
    (``page.html``: head, style sheet, title, footer)."""
    body = Template(_template_text(name)).substitute(**parts)
    return Template(_template_text("page.html")).substitute(
        style=_template_text("style.css"), title=title, footer=footer, body=body)


def table(header: list[str], rows: list[list[str]], *, numeric: tuple[int, ...] = ()) -> str:
    """An HTML table; ``header`` is plain text, ``rows`` hold HTML fragments (escape before)."""
    if not rows:
        return "<p>None.</p>"

    def cls(i: int) -> str:
        return ' class="num"' if i in numeric else ""

    head = "".join(f"<th{cls(i)}>{esc(h)}</th>" for i, h in enumerate(header))
    body = "\n".join("<tr>" + "".join(f"<td{cls(i)}>{c}</td>" for i, c in enumerate(r)) + "</tr>" for r in rows)
    return f"<table>\n<tr>{head}</tr>\n{body}\n</table>"


def png_img(data: bytes, alt: str) -> str:
    """An ``<img>`` with the PNG embedded (the page stands alone: it can be mailed or uploaded)."""
    return f'<img alt="{esc(alt)}" src="data:image/png;base64,{base64.b64encode(data).decode("ascii")}">'


def number(x) -> str:
    text = f"{float(x):.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
