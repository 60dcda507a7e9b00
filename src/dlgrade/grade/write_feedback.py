"""Per-student feedback HTML: the score, each question with the student's own answer, what
failed and what it cost, hints, reviews, and the student's plots.

One page per submission, ``feedback/<result name>.html``, built from its
result JSON (reviews and late penalty applied) and the exercise's rubric
labels. Student content is escaped; figures are embedded. Full marks are
green, partial credit amber, nothing red.
"""
from __future__ import annotations

import re
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
    "wrong_exercise": "a notebook for another exercise (not run)",
    "unreadable": "the file could not be read as a notebook",
}
_LISTED = re.compile(r"\b(found|missing): ([^;]*)")


def feedback_html(record: dict, *, title: str, out: Path, labels: dict | None = None) -> str:
    """The feedback page of one result record; ``out`` is the exercise's output folder (for figures);
    ``labels``: question id -> {rubric key point id: readable label}."""
    name = f" ({record['name']})" if record.get("name") else ""
    student = (f"Student {esc(record['student_id'])}{esc(name)} &middot; file {esc(record['file'])} "
               f"&middot; profile {esc(record['profile'])}")
    score = f"{number(record['score'])} / {number(record['max_points'])} points ({number(record['percent'])}%)"
    late = record.get("late") or {}
    if late.get("penalty"):
        score += (f" &middot; <span class=\"partial\">late {esc(late.get('late_by', ''))}: "
                  f"&minus;{esc(number(late['penalty']))} points (before the penalty: "
                  f"{esc(number(record.get('raw_score', record['score'])))})</span>")
    else:
        score = esc(score)
    return page("feedback.html", title=esc(f"{title}: feedback"), student=student, score=score,
                problem=_problem(record), notes=_notes(record), questions=_questions(record, labels or {}, out),
                figures=_figures(record, out),
                footer=esc(f"dlgrade {record['grader']} · exercise {record['exercise']}"))


def rubric_labels(exercise) -> dict:
    """Question id -> {key point id: readable label}, from the exercise's ``rubrics.yaml`` (empty without one)."""
    path = exercise.rubrics_path
    if not path.is_file():
        return {}
    from dlgrade.rubric import load_rubrics

    return {qid: {k.id: k.title for k in rubric.key_points} for qid, rubric in load_rubrics(path).items()}


def readable(detail: str, labels: dict) -> str:
    """``detail`` with rubric key point ids ("found: a, b; missing: c") replaced by their labels, as HTML."""
    if not labels or not _LISTED.search(detail):
        return esc(detail)
    parts = []
    for m in _LISTED.finditer(detail):
        ids = [i.strip() for i in m.group(2).split(",") if i.strip() and i.strip() != "none"]
        items = "".join(f"<li>{esc(labels.get(i, i))}</li>" for i in ids) or "<li>none</li>"
        parts.append(f'<span class="{"pass" if m.group(1) == "found" else "fail"}-text">'
                     f'{esc(m.group(1))}:</span><ul class="points">{items}</ul>')
    return "".join(parts)


def grade_class(earned: float, points: float) -> str:
    """CSS class of a score: ``pass`` (full), ``partial`` (some) or ``fail`` (none)."""
    if earned >= points - 1e-9:
        return "pass"
    return "partial" if earned > 1e-9 else "fail"


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


def _questions(record: dict, labels: dict, out: Path) -> str:
    parts = []
    answers = record.get("answers") or {}
    for q in record["questions"]:
        cls = grade_class(q["earned"], q["points"])
        head = (f'<h3>{esc(q["id"])}: {esc(q["title"])} &mdash; <span class="{cls}">'
                f'{esc(number(q["earned"]))} / {esc(number(q["points"]))} points</span></h3>')
        body = []
        review = q.get("review")
        if review:
            body.append(f'<div class="reviewed"><strong>Reviewed by an instructor</strong>: '
                        f'{esc(number(review["score"]))} / {esc(number(q["points"]))} points '
                        f'(automatic score {esc(number(q.get("auto_earned", 0)))})'
                        + (f'<br>{esc(review["comment"])}' if review.get("comment") else "") + "</div>")
        elif q.get("needs_review"):
            body.append('<p class="review">An instructor will review this answer; the points may change.</p>')
        if answers.get(q["id"]):
            body.append(f'<p class="label">Your answer</p><blockquote>{esc(answers[q["id"]])}</blockquote>')
        for fig in q.get("figures") or []:
            path = out / str(fig.get("path", ""))
            if path.is_file() and out.resolve() in path.resolve().parents:
                body.append(f'<figure>{png_img(path.read_bytes(), fig.get("caption") or "figure")}'
                            f'<figcaption>{esc(fig.get("caption", ""))}</figcaption></figure>')
        error = q.get("error")
        if error:
            label = KIND_LABELS.get(error.get("kind"), error.get("kind", ""))
            body.append(f'<div class="box"><strong>Stopped: {esc(label)}</strong><br>'
                        f'{esc(error.get("message", ""))}</div>')
        # A passed check that earned part of its points (a rubric's share) leaves the checks short of the total.
        accounted = sum(c["points"] for c in q["checks"])
        partial = accounted < q["points"] - 1e-9 and not error and any(c["passed"] for c in q["checks"])
        rows = []
        for c in q["checks"]:
            if c["passed"]:
                mark = ('<span class="partial">partly</span>' if partial else '<span class="pass">passed</span>')
                pts = f"+{number(c['points'])}" if c["points"] else ""
            else:
                mark = '<span class="fail">failed</span>'
                pts = f"&minus;{number(c['points'])}" if c["points"] else ""
            text = esc(c["message"])
            if c.get("detail"):
                text += f"<br><small>{readable(c['detail'], labels.get(q['id'], {}))}</small>"
            if not c["passed"] and c.get("hint"):
                text += f'<br><span class="hint">hint: {esc(c["hint"])}</span>'
            rows.append([mark, text, pts])
        if rows:
            body.append(table(["", "check", "points"], rows, numeric=(2,)))
        parts.append(f'<section class="question">{head}\n' + "\n".join(body) + "</section>")
    return "\n".join(parts)


def _figures(record: dict, out: Path) -> str:
    imgs = []
    for i, rel in enumerate(record.get("figures", []), start=1):
        path = out / rel
        if path.is_file():
            imgs.append(png_img(path.read_bytes(), f"figure {i} from your notebook"))
    return "<h2>Your plots</h2>\n" + "\n".join(imgs) if imgs else ""
