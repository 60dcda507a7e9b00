"""The grader's end of the pipes to a submission's process: :class:`Channel`.

One JSON line each way (:mod:`dlgrade.sandbox.framing`), every read and write
bounded by a deadline, replies capped at :data:`~dlgrade.sandbox.limits.MAX_REPLY`.
What goes wrong is one of three exceptions, for the caller to blame:
:class:`Closed`, :class:`TimedOut` or :class:`Malformed`.
"""
from __future__ import annotations

import os
import select
import time

from dlgrade.sandbox import framing
from dlgrade.sandbox.limits import MAX_REPLY

__all__ = ["Channel", "Closed", "Malformed", "TimedOut"]


class Closed(Exception):
    """The process closed its end of the pipes (it died, or closed them)."""


class TimedOut(Exception):
    """No complete reply before the deadline."""


class Malformed(Exception):
    """Something that is not a valid reply came back."""


class Channel:
    """Request and reply pipes to one submission process, with deadlines."""

    def __init__(self, req_w: int, rep_r: int):
        self.req_w, self.rep_r = req_w, rep_r
        os.set_blocking(req_w, False)
        os.set_blocking(rep_r, False)
        self.lines = framing.Lines(MAX_REPLY)

    def send(self, message: dict, deadline: float) -> None:
        view = memoryview(framing.encode(message))
        while view:
            if not select.select([], [self.req_w], [], _left(deadline))[1]:
                raise TimedOut
            try:
                view = view[os.write(self.req_w, view):]
            except BlockingIOError:
                continue
            except (BrokenPipeError, OSError):
                raise Closed from None

    def recv(self, deadline: float) -> dict:
        try:
            while (line := self.lines.pop()) is None:
                if not select.select([self.rep_r], [], [], _left(deadline))[0]:
                    raise TimedOut
                try:
                    chunk = os.read(self.rep_r, 1 << 20)
                except BlockingIOError:
                    continue
                except OSError:
                    chunk = b""
                if not chunk:
                    raise Closed
                self.lines.feed(chunk)
            return framing.decode(line)
        except framing.BadLine as exc:
            raise Malformed(str(exc)) from None

    def close(self) -> None:
        for fd in (self.req_w, self.rep_r):
            try:
                os.close(fd)
            except OSError:
                pass


def _left(deadline: float) -> float:
    return max(0.0, deadline - time.monotonic())
