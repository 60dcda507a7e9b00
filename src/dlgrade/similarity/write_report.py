"""``similarity.html`` (ranked pairs, side by side, shared regions highlighted) and ``similarity.csv``.

Everything from a submission (ids, names, code, answers) passes through
:func:`esc`. The page stands alone (style sheet inline) so it can be mailed.
"""
from __future__ import annotations

import csv
import io
from importlib import resources
from pathlib import Path

from dlgrade.atomic import write_atomic
from dlgrade.grade.render_html import esc, table
from dlgrade.grade.write_gradebook import text as csv_text
from dlgrade.similarity.find_pairs import Pair

MAX_SHOWN = 60
"""Pairs shown side by side per question (all flagged pairs are in the tables and the CSV)."""
CSV_HEADER = ["question", "kind", "student_a", "file_a", "student_b", "file_b", "score", "shared",
              "fingerprints_a", "fingerprints_b", "flagged"]
_STYLE = """
body { max-width: 90rem; }
.side { display: grid; grid-template-columns: 1fr 1fr; gap: .8rem; }
.side > div { min-width: 0; }
table.src { font-family: ui-monospace, "SF Mono", Menlo, monospace; font-size: .8rem; margin: .2rem 0 .6rem; }
table.src td { border: 0; padding: 0 .4rem; white-space: pre-wrap; word-break: break-word; }
table.src td.ln { color: #999; text-align: right; width: 2.5rem; user-select: none; }
table.src tr.hit td { background: #fff1a8; }
table.src caption { text-align: left; color: #555; font-size: .8rem; }
mark { background: #fff1a8; }
.pair { border-top: 1px solid #ddd; margin-top: 1.2rem; }
"""


def write_csv(result, path: Path) -> Path:
    """One row per scored pair and question (flagged or not), best first."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for q, pairs in result.pairs.items():
        for p in pairs:
            a, b = result.works[p.a], result.works[p.b]
            writer.writerow([q, p.kind, csv_text(a.student_id), csv_text(a.file), csv_text(b.student_id),
                             csv_text(b.file), f"{p.score:.3f}", p.shared, p.size_a, p.size_b,
                             "yes" if p.flagged else "no"])
    return write_atomic(path, buf.getvalue().encode("utf-8"))


def write_html(result, path: Path) -> Path:
    return write_atomic(path, render(result).encode("utf-8"))


def render(result) -> str:
    s = result.settings
    title = f"Similar submissions: {esc(result.exercise)}"
    parts = [f"""<div class="note"><p><b>A flagged pair is a reason to look, not evidence.</b> Short answers,
common mistakes, the same lecture notes or a study group make honest work similar; read both answers and talk
with the students before drawing any conclusion.</p>
<p>What was compared, question by question, for {len(result.works)} submission(s):
<b>code</b> of the answer cells (and cells students added) after dropping comments, docstrings and blank lines,
replacing every name the student chose by one placeholder and every literal by its kind, as fingerprints of
{s.k} consecutive tokens (winnowing, window {s.window}); code of the template and of the reference solution,
and passages found in more than {max(s.common_min, int(s.common * len(result.works)))} submissions (what the class
writes, a common mistake), do not count. <b>Written answers</b>: runs of
{s.shingle} consecutive words after lower-casing and dropping common words and the question's own words.
A pair is flagged when at least {s.code_threshold:.0%} (code) or {s.text_threshold:.0%} (written answers) of the
smaller answer's fingerprints, and at least {s.code_min_shared} (code) or {s.text_min_shared} (text) of them,
are shared. Shared regions are highlighted.</p></div>"""]
    parts.append("<h2>Groups of three or more</h2>")
    if result.groups:
        parts.append("<ul>" + "".join("<li>" + ", ".join(esc(result.works[i].label) for i in g) + "</li>"
                                      for g in result.groups) + "</ul>")
    else:
        parts.append("<p>None.</p>")
    for q, pairs in result.pairs.items():
        flagged = [p for p in pairs if p.flagged]
        kind = "code" if result.kinds[q] == "code" else "written answer"
        parts.append(f'<h2 id="{esc(q)}">{esc(q)} ({kind}): {len(flagged)} flagged pair(s)</h2>')
        rows = [[str(n), f'<a href="#{esc(q)}-{n}">{esc(result.works[p.a].label)}</a>',
                 esc(result.works[p.b].label), f"{p.score:.0%}", str(p.shared)]
                for n, p in enumerate(flagged, start=1)]
        parts.append(table(["#", "student", "student", "shared", "fingerprints"], rows, numeric=(0, 3, 4)))
        for n, p in enumerate(flagged[:MAX_SHOWN], start=1):
            parts.append(_pair_view(result, q, n, p))
        if len(flagged) > MAX_SHOWN:
            parts.append(f"<p>{len(flagged) - MAX_SHOWN} more pair(s) in similarity.csv.</p>")
    style = _shared_style() + _STYLE
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
{style}
</style>
</head>
<body>
<h1>{title}</h1>
{chr(10).join(parts)}
<footer>dlgrade similarity: fingerprints, not judgements.</footer>
</body>
</html>
"""


def _pair_view(result, q: str, n: int, p: Pair) -> str:
    a, b = result.works[p.a], result.works[p.b]
    if p.kind == "code":
        left, right = _code_side(a, q, p.marks_a), _code_side(b, q, p.marks_b)
    else:
        left, right = _text_side(a.text[q], p.marks_a), _text_side(b.text[q], p.marks_b)
    return f"""<div class="pair" id="{esc(q)}-{n}">
<h3>{esc(q)} #{n}: {esc(a.label)} and {esc(b.label)}, {p.score:.0%} of the smaller answer shared
({p.shared} fingerprint(s))</h3>
<div class="side"><div><p class="label">{esc(a.label)} <span class="meta">{esc(a.file)}</span></p>{left}</div>
<div><p class="label">{esc(b.label)} <span class="meta">{esc(b.file)}</span></p>{right}</div></div>
</div>"""


def _code_side(work, q: str, marks) -> str:
    cells = sorted({c.cell for c in work.code.get(q, [])})
    out = []
    for cell in cells:
        rows = []
        for number, line in enumerate(work.cells[cell].splitlines() or [""], start=1):
            hit = ' class="hit"' if (cell, number) in marks else ""
            rows.append(f'<tr{hit}><td class="ln">{number}</td><td>{esc(line) or " "}</td></tr>')
        out.append(f'<table class="src"><caption>cell {cell + 1}</caption>{"".join(rows)}</table>')
    return "".join(out)


def _text_side(text: str, marks) -> str:
    spans = sorted(set(marks))
    out, pos = [], 0
    for start, end in spans:
        if start < pos:
            continue
        out.append(esc(text[pos:start]) + f"<mark>{esc(text[start:end])}</mark>")
        pos = end
    out.append(esc(text[pos:]))
    return f"<blockquote>{''.join(out)}</blockquote>"


def _shared_style() -> str:
    try:
        return (resources.files("dlgrade.grade") / "templates" / "style.css").read_text(encoding="utf-8")
    except OSError:
        return ""
