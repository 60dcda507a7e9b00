"""The grader's end of a worker's zygote: its process, its control socket, and what to release.

The zygote (:mod:`dlgrade.sandbox.zygote`) answers one JSON line per command on
a Unix socket; pipes travel alongside as file descriptors. A zygote that does
not answer in time, closes the socket or sends something that is not a JSON
line is *lost* (:class:`ZygoteLost`): the worker kills its sandbox and starts
another.
"""
from __future__ import annotations

import logging
import select
import shutil
import socket
import subprocess
import time
from pathlib import Path

from dlgrade.sandbox import framing
from dlgrade.sandbox.cgroups import Cgroup
from dlgrade.sandbox.limits import MAX_CONTROL
from dlgrade.sandbox.processes import kill_tree

log = logging.getLogger(__name__)

__all__ = ["ZygoteLost", "ZygoteProcess"]


class ZygoteLost(Exception):
    """The zygote stopped answering its control channel."""


class ZygoteProcess:
    """The zygote's process and control socket, the worker's cgroup and folders: everything a worker
    must release, even if it is never closed (:meth:`release` serves as its finalizer)."""

    def __init__(self):
        self.proc: subprocess.Popen | None = None
        self.sock: socket.socket | None = None
        self.cgroup: Cgroup | None = None
        self.dirs: list[Path] = []
        """Folders removed on release."""
        self.lines = framing.Lines(MAX_CONTROL)
        self.log_path: Path | None = None
        """Where the zygote's stdout and stderr go."""

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, cmd: list[str], *, ours: socket.socket, theirs: socket.socket, env: dict,
              log_path: Path) -> None:
        """Start ``cmd`` (given ``theirs``, the zygote's end of the control socket); keep ``ours``."""
        self.log_path = log_path
        with open(log_path, "ab") as logfile:
            try:
                self.proc = subprocess.Popen(cmd, pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL,
                                             stdout=logfile, stderr=subprocess.STDOUT, env=env, cwd="/",
                                             start_new_session=True)
            except BaseException:
                ours.close()
                raise
            finally:
                theirs.close()
        self.sock = ours
        self.lines = framing.Lines(MAX_CONTROL)

    def request(self, message: dict, fds=(), *, timeout: float) -> dict:
        """Send one command (with ``fds``) and return the zygote's answer."""
        if self.sock is None:
            raise ZygoteLost("no worker process")
        try:
            socket.send_fds(self.sock, [framing.encode(message)], list(fds))
        except OSError as exc:
            raise ZygoteLost(f"the worker process failed ({exc})") from None
        return self.read(timeout)

    def read(self, timeout: float) -> dict:
        """The zygote's next JSON line; :class:`ZygoteLost` when it does not come in time."""
        sock, deadline = self.sock, time.monotonic() + timeout
        if sock is None:
            raise ZygoteLost("no worker process")
        try:
            while (line := self.lines.pop()) is None:
                if not select.select([sock], [], [], max(0.0, deadline - time.monotonic()))[0]:
                    raise ZygoteLost(f"the worker process did not answer within {timeout:g} s")
                try:
                    data = sock.recv(1 << 20)
                except OSError as exc:
                    raise ZygoteLost(f"the worker process failed ({exc})") from None
                if not data:
                    raise ZygoteLost("the worker process stopped")
                self.lines.feed(data)
            return framing.decode(line)
        except framing.BadLine:
            raise ZygoteLost("the worker process sent something that is not a JSON line") from None

    def log_tail(self) -> str:
        """The last lines the zygote wrote to its log, on one line."""
        try:
            lines = self.log_path.read_text(errors="replace").strip().splitlines()
        except (OSError, AttributeError):
            return "(no log)"
        return " / ".join(lines[-5:])[-1000:] or "(empty)"

    def stop_process(self) -> None:
        """Close the control socket and kill the zygote's sandbox, everything in it included."""
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            kill_tree(proc.pid)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            log.warning("worker process %d did not stop", proc.pid)

    def release(self) -> None:
        """Stop the process, remove the cgroup and the folders."""
        self.stop_process()
        if self.cgroup is not None:
            self.cgroup.remove()
            self.cgroup = None
        for path in self.dirs:
            shutil.rmtree(path, ignore_errors=True)
        self.dirs = []
