"""The class summary HTML: score histogram, per-question pass rates, most common failures,
what to review, problems with submissions, and every student's score with a link to their feedback.

Built from the result records only. Charts are drawn with matplotlib's Agg
backend (no display, no global pyplot state) and embedded as PNG.
"""
from __future__ import annotations

import io
import json
import re
from collections import Counter

from dlgrade.grade.render_html import esc, number, page, png_img, table
from dlgrade.grade.write_feedback import KIND_LABELS, readable

TOP_FAILURES = 15
STATUS_LABELS = {"graded": "graded", "unreadable": "not readable as a notebook",
                 "not_run": "could not run", "grader_error": "where the grader failed"}
_WHERE = re.compile(r" \(at cell \d+, line \d+\)$")


def summary_html(grading, found, records: dict, *, labels: dict | None = None) -> str:
    """``records``: result name -> record (None when missing); ``labels``: rubric labels per question."""
    ex = grading.exercise
    singles = [records.get(f.result_name) for f in found.files if f.student_id not in found.duplicates]
    singles = [r for r in singles if r is not None]
    every = [r for r in records.values() if r is not None]
    meta = (f"exercise {esc(ex.id)} &middot; profile {esc(grading.profile.name)} &middot; "
            f"grader {esc(grading.grader)}")
    return page("summary.html", title=esc(f"{ex.title}: class summary"), meta=meta,
                isolation=_isolation(every), counts=_counts(found, every, singles), histogram=_histogram(singles),
                questions=_questions(grading, singles), failures=_failures(every),
                review=_review(every, labels or {}), problems=_problems(found, every),
                similarity=_similarity(grading),
                students=_students(found, records),
                footer=esc(f"dlgrade {grading.grader}"))


def _similarity(grading) -> str:
    """Where ``dlgrade similarity`` writes its report (next to this page)."""
    command = f"dlgrade similarity {grading.exercise.id} --out {grading.out.parent}"
    return (f'<p>Code and written answers compared across the class: <a href="similarity.html">similarity.html</a>, '
            f"written next to this page by <code>{esc(command)}</code> (run it after grading). Similarity is a "
            "reason to look, not evidence.</p>")


def _counts(found, every, singles) -> str:
    statuses = Counter(r["status"] for r in every)
    percents = sorted(r["percent"] for r in singles)
    mean = sum(percents) / len(percents) if percents else 0.0
    median = percents[len(percents) // 2] if percents else 0.0
    items = [f"{len({f.student_id for f in found.files})} students, {len(found.files)} files",
             f"mean {number(mean)}%, median {number(median)}% (students with one file)"]
    items.append(", ".join(f"{n} {STATUS_LABELS.get(s, s)}" for s, n in sorted(statuses.items())))
    # As `dlgrade review` lists them: a student with several files is resolved first, then reviewed.
    pending = sum(bool(q.get("needs_review")) for r in every if r["student_id"] not in found.duplicates
                  for q in r["questions"])
    reviewed = sum(bool(q.get("review")) for r in every for q in r["questions"])
    if pending or reviewed:
        items.append(f"{pending} answer(s) to review, {reviewed} reviewed (dlgrade review)")
    late = sum(bool((r.get("late") or {}).get("penalty")) for r in every)
    if late:
        items.append(f"{late} late submission(s) with a penalty")
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


def _review(every, labels: dict) -> str:
    rows = []
    for r in sorted(every, key=lambda r: (r["student_id"], r["file"])):
        for q in r["questions"]:
            if q.get("needs_review"):
                error = (q.get("error") or {}).get("message")
                why = esc(error) if error else "<br>".join(
                    esc(c["message"]) + (f"<br><small>{readable(c['detail'], labels.get(q['id'], {}))}</small>"
                                         if c.get("detail") else "") for c in q["checks"])
                if q.get("review_reasons"):
                    why = f"<em>{esc('; '.join(q['review_reasons']))}</em><br>" + why
                if (q.get("review") or {}).get("changed"):
                    why = "<strong>auto score changed since review</strong><br>" + why
                answer = r.get("answers", {}).get(q["id"], "")
                rows.append([_link(r), esc(q["id"]), f"{number(q['earned'])} / {number(q['points'])}", why,
                             f"<pre>{esc(answer)}</pre>" if answer else ""])
    return table(["student", "question", "points", "what the grader saw", "answer"], rows)


def unsandboxed(isolation) -> bool:
    """Whether a result's ``isolation`` (words, or a mapping with ``sandboxed`` or ``kind``) says it ran
    without a sandbox."""
    if isinstance(isolation, dict):
        if "sandboxed" in isolation:
            return not isolation["sandboxed"]
        return str(isolation.get("kind", isolation.get("level", ""))).lower() in ("none", "unsandboxed")
    return str(isolation).strip().lower().startswith("none")


def _isolation(every) -> str:
    kinds = Counter(json.dumps(r.get("isolation", ""), sort_keys=True) if isinstance(r.get("isolation"), dict)
                    else str(r.get("isolation", "")) for r in every)
    if not kinds:
        return ""
    loose = sum(unsandboxed(r.get("isolation", "")) for r in every)
    lines = "; ".join(f"{esc(k or 'not recorded')} ({n} submission{'s' if n != 1 else ''})"
                      for k, n in sorted(kinds.items()))
    banner = (f'<div class="banner">Unsandboxed: {loose} of {len(every)} submission(s) ran without a sandbox; '
              "student code could read and write what the grader can.</div>") if loose else ""
    return f'{banner}<p class="meta">isolation: {lines}</p>'


def _problems(found, every) -> str:
    rows = [[esc(sid), "several files", esc("; ".join(files))] for sid, files in found.duplicates.items()]
    for r in sorted(every, key=lambda r: (r["student_id"], r["file"])):
        if r.get("problem"):
            rows.append([_link(r), esc(KIND_LABELS.get(r["problem"]["kind"], r["problem"]["kind"])),
                         esc(r["problem"].get("message", ""))])
    rows += [[esc(f.student_id), "identity", esc(f"{f.origin}: {note}")] for f in found.files for note in f.notes]
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
