"""The class summary HTML: score histogram, per-question pass rates, most common failures,
what to review, problems with submissions, and every student's score with a link to their feedback.

Built from the result records only. Charts are drawn with matplotlib's Agg
backend (no display, no global pyplot state) and embedded as PNG.
"""
from __future__ import annotations

import io
import re
from collections import Counter

from dlgrade.grade.render_html import esc, number, page, png_img, table
from dlgrade.grade.write_feedback import KIND_LABELS

TOP_FAILURES = 15
STATUS_LABELS = {"graded": "graded", "unreadable": "not readable as a notebook",
                 "not_run": "could not run", "grader_error": "where the grader failed"}
_WHERE = re.compile(r" \(at cell \d+, line \d+\)$")
ANSWER_CHARS = 800


def summary_html(grading, found, records: dict) -> str:
    """``records``: result name -> record (None when missing)."""
    ex = grading.exercise
    singles = [records.get(f.result_name) for f in found.files if f.student_id not in found.duplicates]
    singles = [r for r in singles if r is not None]
    every = [r for r in records.values() if r is not None]
    meta = (f"exercise {esc(ex.id)} &middot; profile {esc(grading.profile.name)} &middot; "
            f"grader {esc(grading.grader)}")
    return page("summary.html", title=esc(f"{ex.title}: class summary"), meta=meta,
                counts=_counts(found, every, singles), histogram=_histogram(singles),
                questions=_questions(grading, singles), failures=_failures(every),
                review=_review(every), problems=_problems(found, every), students=_students(found, records),
                footer=esc(f"dlgrade {grading.grader}"))


def _counts(found, every, singles) -> str:
    statuses = Counter(r["status"] for r in every)
    percents = sorted(r["percent"] for r in singles)
    mean = sum(percents) / len(percents) if percents else 0.0
    median = percents[len(percents) // 2] if percents else 0.0
    items = [f"{len({f.student_id for f in found.files})} students, {len(found.files)} files",
             f"mean {number(mean)}%, median {number(median)}% (students with one file)"]
    items.append(", ".join(f"{n} {STATUS_LABELS.get(s, s)}" for s, n in sorted(statuses.items())))
    if found.duplicates:
        items.append(f"{len(found.duplicates)} students with several files (no score until resolved)")
    return "<ul>" + "".join(f"<li>{esc(i)}</li>" for i in items) + "</ul>"


def _chart(draw, alt: str, size=(6.0, 2.6)) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=100)
    FigureCanvasAgg(fig)
    draw(fig.add_subplot())
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return png_img(buf.getvalue(), alt)


def _histogram(singles) -> str:
    if not singles:
        return "<p>No scores.</p>"
    percents = [r["percent"] for r in singles]

    def draw(ax):
        ax.hist(percents, bins=[i * 10 for i in range(11)], color="#2e86c1", edgecolor="white")
        ax.set_xlabel("score (%)")
        ax.set_ylabel("students")
        ax.set_xlim(0, 100)

    return _chart(draw, "histogram of scores")


def _questions(grading, singles) -> str:
    rows, rates = [], []
    for q in grading.questions:
        got = [next((x for x in r["questions"] if x["id"] == q.id), None) for r in singles]
        got = [g for g in got if g is not None]
        n = len(got) or 1
        full = sum(g["earned"] >= g["points"] for g in got) / n
        zero = sum(g["earned"] == 0 for g in got) / n
        errors = sum(bool(g.get("error")) for g in got) / n
        mean = sum(g["earned"] for g in got) / n
        rates.append((q.id, full))
        rows.append([esc(q.id), esc(q.title), number(q.points), number(mean), f"{full:.0%}", f"{zero:.0%}",
                     f"{errors:.0%}"])
    html = table(["question", "title", "points", "mean", "full marks", "zero", "stopped by an error"], rows,
                 numeric=(2, 3, 4, 5, 6))
    if singles:
        def draw(ax):
            ax.bar([q for q, _ in rates], [100 * r for _, r in rates], color="#28b463")
            ax.set_ylabel("full marks (%)")
            ax.set_ylim(0, 100)

        html += _chart(draw, "share of full marks per question", size=(6.0, 2.4))
    return html


def failure_key(text: str) -> str:
    """A message without where in the student's notebook it happened."""
    return _WHERE.sub("", text)


def _failures(every) -> str:
    counts: Counter = Counter()
    for r in every:
        for q in r["questions"]:
            if q.get("error"):
                counts[(q["id"], failure_key(q["error"].get("message", "")))] += 1
            for c in q["checks"]:
                if not c["passed"]:
                    counts[(q["id"], c["message"])] += 1
        if r.get("problem"):
            counts[("notebook", failure_key(r["problem"].get("message", "")))] += 1
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_FAILURES]
    return table(["question", "message", "submissions"], [[esc(q), esc(m), str(n)] for (q, m), n in top],
                 numeric=(2,))


def _link(record) -> str:
    return f'<a href="feedback/{esc(record["_name"])}.html">{esc(record["student_id"])}</a>'


def _review(every) -> str:
    rows = []
    for r in sorted(every, key=lambda r: (r["student_id"], r["file"])):
        for q in r["questions"]:
            if q.get("needs_review"):
                why = (q.get("error") or {}).get("message") or "; ".join(
                    c["message"] + (f" ({c['detail']})" if c.get("detail") else "") for c in q["checks"])
                answer = r.get("answers", {}).get(q["id"], "")
                if len(answer) > ANSWER_CHARS:
                    answer = answer[:ANSWER_CHARS] + " [...]"
                rows.append([_link(r), esc(q["id"]), f"{number(q['earned'])} / {number(q['points'])}", esc(why),
                             f"<pre>{esc(answer)}</pre>" if answer else ""])
    return table(["student", "question", "points", "what the grader saw", "answer"], rows)


def _problems(found, every) -> str:
    rows = [[esc(sid), "several files", esc("; ".join(files))] for sid, files in found.duplicates.items()]
    for r in sorted(every, key=lambda r: (r["student_id"], r["file"])):
        if r.get("problem"):
            rows.append([_link(r), esc(KIND_LABELS.get(r["problem"]["kind"], r["problem"]["kind"])),
                         esc(r["problem"].get("message", ""))])
    rows += [["", "ignored input", esc(i)] for i in found.ignored]
    return table(["student", "problem", "detail"], rows)


def _students(found, records) -> str:
    rows = []
    for f in found.files:
        r = records.get(f.result_name)
        if r is None:
            rows.append([esc(f.student_id), esc(f.origin), "", "missing"])
            continue
        status = r["status"] + (" (duplicate)" if f.student_id in found.duplicates else "")
        rows.append([_link(r), esc(f.origin), f"{number(r['score'])} / {number(r['max_points'])}", esc(status)])
    return table(["student", "file", "score", "status"], rows)
