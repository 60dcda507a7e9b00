"""Per-student feedback HTML: the score, what failed and why, hints, and the student's plots.

One page per submission, ``feedback/<result name>.html``, built from its
result JSON alone. Student content is escaped; figures are embedded.
"""
from __future__ import annotations

from pathlib import Path

from dlgrade.grade.render_html import esc, number, page, png_img, table

KIND_LABELS = {
    "missing": "not found in your notebook",
    "not_implemented": "not implemented yet",
    "exception": "your code raised an error",
    "bad_output": "the value returned has the wrong type, shape or contents",
    "timeout": "ran out of time",
    "crashed": "your code's process stopped (crash, out of memory or exit)",
    "grader_error": "the grader could not finish this question (an instructor will look)",
    "not_run": "not graded",
    "unreadable": "the file could not be read as a notebook",
}


def feedback_html(record: dict, *, title: str, out: Path) -> str:
    """The feedback page of one result record; ``out`` is the exercise's output folder (for figures)."""
    name = f" ({record['name']})" if record.get("name") else ""
    student = (f"Student {esc(record['student_id'])}{esc(name)} &middot; file {esc(record['file'])} "
               f"&middot; profile {esc(record['profile'])}")
    score = f"{number(record['score'])} / {number(record['max_points'])} points ({number(record['percent'])}%)"
    return page("feedback.html", title=esc(f"{title}: feedback"), student=student, score=esc(score),
                problem=_problem(record), notes=_notes(record), questions=_questions(record),
                figures=_figures(record, out),
                footer=esc(f"dlgrade {record['grader']} · exercise {record['exercise']}"))


def _problem(record: dict) -> str:
    problem = record.get("problem")
    if not problem:
        return ""
    label = KIND_LABELS.get(problem.get("kind"), problem.get("kind", ""))
    return f'<div class="box"><strong>{esc(label)}</strong><br>{esc(problem.get("message", ""))}</div>'


def _notes(record: dict) -> str:
    items = [esc(m) for m in record.get("messages", [])]
    for cell in record.get("cells", []):
        if cell["status"] == "error":
            items.append(f"cell {cell['index'] + 1} raised an error: <code>{esc(cell['message'])}</code>")
        elif cell["status"] == "not_run":
            items.append(f"cell {cell['index'] + 1} did not run: {esc(cell['message'])}")
    if not items:
        return ""
    lis = "\n".join(f"<li>{i}</li>" for i in items)
    return f'<div class="note"><strong>About your notebook</strong><ul>\n{lis}\n</ul></div>'


def _questions(record: dict) -> str:
    parts = []
    for q in record["questions"]:
        head = (f'<h3>{esc(q["id"])}: {esc(q["title"])} &mdash; {esc(number(q["earned"]))} / '
                f'{esc(number(q["points"]))} points</h3>')
        body = []
        if q.get("needs_review"):
            body.append('<p class="review">An instructor will review this answer; the points may change.</p>')
        error = q.get("error")
        if error:
            label = KIND_LABELS.get(error.get("kind"), error.get("kind", ""))
            body.append(f'<div class="box"><strong>Stopped: {esc(label)}</strong><br>'
                        f'{esc(error.get("message", ""))}</div>')
        rows = []
        for c in q["checks"]:
            mark = '<span class="pass">passed</span>' if c["passed"] else '<span class="fail">failed</span>'
            text = esc(c["message"])
            if c.get("detail"):
                text += f"<br><code>{esc(c['detail'])}</code>"
            if not c["passed"] and c.get("hint"):
                text += f'<br><span class="hint">hint: {esc(c["hint"])}</span>'
            rows.append([mark, text, esc(number(c["points"]))])
        if rows:
            body.append(table(["", "check", "points"], rows, numeric=(2,)))
        parts.append(head + "\n" + "\n".join(body))
    return "\n".join(parts)


def _figures(record: dict, out: Path) -> str:
    imgs = []
    for i, rel in enumerate(record.get("figures", []), start=1):
        path = out / rel
        if path.is_file():
            imgs.append(png_img(path.read_bytes(), f"figure {i} from your notebook"))
    return "<h2>Your plots</h2>\n" + "\n".join(imgs) if imgs else ""
