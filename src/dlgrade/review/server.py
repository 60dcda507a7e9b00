"""The review web page: a local HTTP server (standard library) over :mod:`.items` and :mod:`.store`.

Bound to 127.0.0.1 on a free port; every request must carry the random token
of the URL printed at start (``?token=`` for pages and reads, the
``X-Dlgrade-Token`` header for writes, which a page of another site cannot
send without a CORS preflight this server never grants), and a ``Host`` of
127.0.0.1 or localhost (no DNS rebinding). Endpoints:

* ``GET /`` the page (``page.html``: plain JavaScript, student text set as text, never as HTML);
* ``GET /api/items`` the items to review, with the exercise's title and the reviewer;
* ``GET /api/figure?result=R&q=Q&n=N`` figure N of question Q of a result, or of its notebook without Q
  (only figures its result JSON lists);
* ``POST /api/review`` ``{"key": "student/question", "score": "full" | "none" | number, "comment": ...}``:
  appends the review and rebuilds the reports (gradebook, feedback, summary).
"""
from __future__ import annotations

import json
import logging
import secrets
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from urllib.parse import parse_qs, urlsplit

from dlgrade.errors import DlgradeError
from dlgrade.grade.job import Grading
from dlgrade.grade.load_submissions import Found
from dlgrade.grade.write_reports import write_reports
from dlgrade.review.items import load_items
from dlgrade.review.store import Review, append_reviews, now, parse_score

log = logging.getLogger(__name__)
MAX_BODY = 64 << 10
MAX_COMMENT = 5000


class ReviewApp:
    """The state behind the server: the grading, the reviewer's name, and a lock around writes."""

    def __init__(self, grading: Grading, *, reviewer: str, token: str | None = None):
        self.grading = grading
        self.reviewer = reviewer
        self.token = token or secrets.token_urlsafe(18)
        self.lock = threading.Lock()

    def items(self) -> dict:
        ex = self.grading.exercise
        return {"exercise": ex.id, "title": ex.title, "reviewer": self.reviewer,
                "items": load_items(self.grading).items}

    def review(self, body: dict) -> dict:
        """Record one review; returns the item as it now stands. DlgradeError for a bad request."""
        key, comment = body.get("key"), body.get("comment", "")
        if not isinstance(key, str) or not isinstance(comment, str):
            raise DlgradeError("'key' and 'comment' must be strings")
        with self.lock:
            items = {it["key"]: it for it in load_items(self.grading).items}
            item = items.get(key)
            if item is None:
                raise DlgradeError(f"no item {key!r} to review")
            score = parse_score(body.get("score"), item["points"], f"{key}")
            append_reviews(self.grading.out, [Review(item["student_id"], item["question"], score,
                                                     comment.strip()[:MAX_COMMENT], self.reviewer, now(),
                                                     item["auto_earned"], item["auto"])])
            write_reports(self.grading, Found((), {}, ()))
            return {it["key"]: it for it in load_items(self.grading).items}[key]

    def figure(self, result: str, question: str, n: str) -> bytes | None:
        """Figure ``n`` (from 1) of question ``question`` of a result, or of its notebook when ``question`` is ''."""
        record = load_items(self.grading).records.get(result)
        try:
            if record is None or int(n) < 1:
                return None
            if question:
                q = next(q for q in record["questions"] if q["id"] == question)
                rel = (q.get("figures") or [])[int(n) - 1].get("path")
            else:
                rel = record["figures"][int(n) - 1]
        except (IndexError, ValueError, StopIteration, AttributeError):
            return None
        path = (self.grading.out / rel).resolve() if isinstance(rel, str) else None
        if path is None or self.grading.out.resolve() not in path.parents or not path.is_file():
            return None
        return path.read_bytes()


def page_html() -> bytes:
    return (resources.files("dlgrade.review") / "page.html").read_bytes()


def make_server(app: ReviewApp, *, port: int = 0) -> ThreadingHTTPServer:
    """An HTTP server for ``app`` on 127.0.0.1 (``port`` 0: a free one); call ``serve_forever``."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "dlgrade-review"

        def log_message(self, fmt, *args):  # noqa: D401 - through logging, not stderr
            log.debug("review: " + fmt, *args)

        def _send(self, status: int, body: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "no-referrer")
            self.send_header("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; "
                             "style-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self'")
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, data) -> None:
            self._send(status, json.dumps(data).encode("utf-8"), "application/json")

        def _allowed(self, token: str | None) -> bool:
            host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
            if host not in ("127.0.0.1", "localhost") or not secrets.compare_digest(token or "", app.token):
                self._json(HTTPStatus.FORBIDDEN, {"error": "forbidden: open the URL dlgrade review printed"})
                return False
            return True

        def do_GET(self):  # noqa: N802 - http.server's name
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            if not self._allowed(query.get("token")):
                return
            if url.path == "/":
                self._send(HTTPStatus.OK, page_html(), "text/html; charset=utf-8")
            elif url.path == "/api/items":
                self._json(HTTPStatus.OK, app.items())
            elif url.path == "/api/figure":
                data = app.figure(query.get("result", ""), query.get("q", ""), query.get("n", ""))
                if data is None:
                    self._json(HTTPStatus.NOT_FOUND, {"error": "no such figure"})
                else:
                    self._send(HTTPStatus.OK, data, "image/png")
            else:
                self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})

        def do_POST(self):  # noqa: N802
            if not self._allowed(self.headers.get("X-Dlgrade-Token")):
                return
            if urlsplit(self.path).path != "/api/review":
                return self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})
            length = int(self.headers.get("Content-Length") or 0)
            if not 0 < length <= MAX_BODY or "json" not in (self.headers.get("Content-Type") or ""):
                return self._json(HTTPStatus.BAD_REQUEST, {"error": "expected a small JSON body"})
            try:
                body = json.loads(self.rfile.read(length))
                if not isinstance(body, dict):
                    raise ValueError("not an object")
                self._json(HTTPStatus.OK, {"item": app.review(body)})
            except (ValueError, DlgradeError) as exc:
                self._json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    return server


def url_of(server: ThreadingHTTPServer, app: ReviewApp) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/?token={app.token}"
