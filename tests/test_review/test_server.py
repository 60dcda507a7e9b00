"""The review server: access control, recording a review, and what the reports make of it."""
from __future__ import annotations

import csv
import io
import json
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest


def _get(url: str, **headers):
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as r:
        return r.status, r.read()


def _post(base: str, token: str, body: dict, **headers):
    req = urllib.request.Request(f"{base}/api/review", data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json", "X-Dlgrade-Token": token} | headers)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _rows(out):
    return {r["student_id"]: r for r in csv.DictReader(io.StringIO((out / "tiny" / "gradebook.csv").read_text()))}


def test_requests_without_the_token_or_from_another_host_are_refused(review_app):
    """Is every request without the URL's token, or with a foreign Host header, answered 403?"""
    app, url, _ = review_app
    base = url.split("/?")[0]
    for bad in (f"{base}/", f"{base}/api/items?token=wrong"):
        with pytest.raises(urllib.error.HTTPError) as exc:
            _get(bad)
        assert exc.value.code == 403
    with pytest.raises(urllib.error.HTTPError) as exc:
        _get(f"{base}/api/items?token={app.token}", Host="evil.example:80")
    assert exc.value.code == 403
    assert _post(base, "wrong", {"key": "ann/q3", "score": "full"})[0] == 403
    assert urlsplit(url).hostname == "127.0.0.1"


def test_only_unsure_answers_are_items_and_a_review_reaches_the_reports(review_app):
    """Are the flagged answers (not the empty one) the items, and does a review change the gradebook, the
    feedback (comment, "reviewed") and the summary's review list?"""
    app, url, (_, out, _, _) = review_app
    base = url.split("/?")[0]
    status, body = _get(f"{base}/api/items?token={app.token}")
    items = json.loads(body)["items"]
    assert status == 200 and [i["key"] for i in items] == ["ann/q3", "bob/q3"]
    assert items[0]["key_points"] == [{"id": "overfitting", "label": "it reveals overfitting", "found": True}]
    assert "shorter than 8 words" in items[0]["reasons"][0]  # why it was flagged
    status, body = _post(base, app.token, {"key": "ann/q3", "score": "full", "comment": "Right, say why."})
    assert status == 200 and body["item"]["review"]["score"] == 2 and body["item"]["review"]["reviewer"] == "ana"
    rows = _rows(out)
    assert (rows["ann"]["score"], rows["ann"]["q3"], rows["ann"]["reviewed"], rows["ann"]["needs_review"]) == \
        ("7", "2", "q3", "")
    assert rows["bob"]["needs_review"] == "q3"
    page = (out / "tiny" / "feedback" / "ann.html").read_text()
    assert "Reviewed by an instructor" in page and "Right, say why." in page
    review = (out / "tiny" / "summary.html").read_text().split("<h2>To review</h2>")[1].split("<h2>")[0]
    assert "feedback/bob.html" in review and "feedback/ann.html" not in review
    assert "1 answer(s) to review, 1 reviewed" in (out / "tiny" / "summary.html").read_text()


def test_bad_scores_are_refused_with_a_reason(review_app):
    """Is a score above the question's points, or not a number, refused with a message and nothing written?"""
    app, url, (_, out, _, _) = review_app
    base = url.split("/?")[0]
    assert _post(base, app.token, {"key": "ann/q3", "score": "3"}) == (400, {"error": "ann/q3: score 3 is outside 0..2"})
    assert _post(base, app.token, {"key": "ann/q3", "score": "lots"})[0] == 400
    assert _post(base, app.token, {"key": "cy/q3", "score": "1"})[0] == 400  # not flagged: nothing to review
    assert not (out / "tiny" / "reviews.jsonl").exists()


def test_a_regrade_keeps_reviews_and_marks_changed_automatic_results(review_app):
    """After a review, does a regrade keep it, and does an answer the student changed mark the review
    "auto score changed since review" and put it back in the review list?"""
    from builders import template_of, write_submission

    app, url, (course, out, grade, paths) = review_app
    base = url.split("/?")[0]
    _post(base, app.token, {"key": "ann/q3", "score": "0.5", "comment": "too short"})
    _post(base, app.token, {"key": "bob/q3", "score": "full"})
    summary = grade(paths, regrade=True)
    rows = _rows(out)
    assert (rows["ann"]["q3"], rows["bob"]["q3"], rows["ann"]["reviewed"]) == ("0.5", "2", "q3")
    assert summary.needs_review == ()
    write_submission(template_of(course), paths[0], answer="Overfitting, memorizing.")
    grade(paths)
    rows = _rows(out)
    assert rows["ann"]["q3"] == "0.5" and rows["ann"]["needs_review"] == "q3"
    items = {i["key"]: i for i in json.loads(_get(f"{base}/api/items?token={app.token}")[1])["items"]}
    assert items["ann/q3"]["review"]["changed"] is True and items["bob/q3"]["review"]["changed"] is False
    assert "auto score changed since review" in (out / "tiny" / "summary.html").read_text()
