"""The items to review: every question the grader flagged, or that an instructor already reviewed.

Built from the whole class (the results the reports are built from, see
:mod:`dlgrade.grade.write_reports`) and ``reviews.jsonl``. An item carries
what a reviewer needs: the question, its rubric's key points as readable
labels marked found or missing, the checks, the student's answer, code and
figures, the automatic score, and the review so far.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from dlgrade.grade.job import Grading
from dlgrade.grade.load_submissions import Found
from dlgrade.grade.write_feedback import rubric_labels
from dlgrade.grade.write_reports import load_class
from dlgrade.review.store import fingerprint, read_reviews

_LISTED = re.compile(r"\b(found|missing): ([^;]*)")


@dataclass(frozen=True)
class Batch:
    """The class as the reviewer sees it."""

    records: dict
    """Result name -> result record (automatic scores, reviews not applied)."""
    items: list
    """One dict per flagged or reviewed (student, question), sorted by student then question order."""


def key_points(detail: str, labels: dict) -> list[dict]:
    """The rubric's key points with ``found`` true/false, from a check's "found: a; missing: b" detail."""
    said = {}
    for m in _LISTED.finditer(detail or ""):
        for kid in (i.strip() for i in m.group(2).split(",")):
            if kid and kid != "none":
                said[kid] = m.group(1) == "found"
    if not said:
        return []
    order = list(labels) + [k for k in said if k not in labels]
    return [{"id": k, "label": labels.get(k, k), "found": said[k]} for k in order if k in said]


def load_items(grading: Grading, *, every: bool = False) -> Batch:
    """Every item to review in ``grading.out`` (see the module docstring); with ``every``, every graded
    question of every student (a regrade request can be about a question the grader did not flag)."""
    klass, records = load_class(grading, Found((), {}, ()))
    reviews = read_reviews(grading.out)
    labels = rubric_labels(grading.exercise)
    order = {q.id: i for i, q in enumerate(grading.questions)}
    items = []
    for f in klass.files:
        record = records.get(f.result_name)
        if record is None or f.student_id in klass.duplicates:
            continue
        for q in sorted(record["questions"], key=lambda q: order.get(q["id"], len(order))):
            review = reviews.get((f.student_id, q["id"]))
            if not (every or q.get("needs_review") or review):
                continue
            answer = (record.get("answers") or {}).get(q["id"], "")
            auto = fingerprint(q, answer)
            points = []
            for c in q["checks"]:
                points += key_points(c.get("detail", ""), labels.get(q["id"], {}))
            items.append({
                "key": f"{f.student_id}/{q['id']}", "student_id": f.student_id, "name": record.get("name", ""),
                "result": f.result_name, "file": record.get("file", ""), "question": q["id"], "title": q["title"],
                "points": q["points"], "auto_earned": q["earned"], "auto": auto,
                "checks": [{"message": c["message"], "points": c["points"], "passed": c["passed"],
                            "detail": c.get("detail", "")} for c in q["checks"]],
                "key_points": points, "error": q.get("error"), "answer": answer,
                "reasons": [str(r) for r in q.get("review_reasons") or []],
                "code": [c.get("source", "") for c in record.get("code", []) if c.get("role") == "answer"]
                if not answer else [],
                "figures": [{"caption": f.get("caption", ""), "q": q["id"], "n": n}
                            for n, f in enumerate(q.get("figures") or [], start=1)]
                + [{"caption": f"figure {n} from the notebook", "q": "", "n": n}
                   for n in range(1, len(record.get("figures", [])) + 1)],
                "review": None if review is None else {
                    "score": review.score, "comment": review.comment, "reviewer": review.reviewer,
                    "at": review.at, "changed": review.auto != auto},
            })
    return Batch(records, items)
