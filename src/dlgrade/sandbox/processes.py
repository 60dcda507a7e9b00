"""Processes of a sandbox seen from the grader: killing a process tree, releasing what a worker
holds, and the seccomp probe."""
from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
from pathlib import Path

from dlgrade.grade.limits import Cgroup

log = logging.getLogger("dlgrade.grade.sandbox")


def seccomp_available() -> bool:
    """Whether pyseccomp and libseccomp can build a filter here."""
    try:
        import pyseccomp

        pyseccomp.SyscallFilter(pyseccomp.ALLOW)
        return True
    except Exception:  # noqa: BLE001 - missing module or libseccomp
        return False


def kill_tree(pid: int) -> None:
    """SIGKILL ``pid`` and its descendants (the whole sandbox dies with bwrap)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as fh:
                    ppid = int(fh.read().rsplit(b")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    todo, tree = [pid], []
    while todo:
        p = todo.pop()
        tree.append(p)
        todo.extend(children.get(p, ()))
    for p in tree:
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass


class Resources:
    """What a Worker must release even if it is never closed (used by a finalizer)."""

    def __init__(self):
        self.proc: subprocess.Popen | None = None
        self.sock: socket.socket | None = None
        self.cgroup: Cgroup | None = None
        self.dirs: list[Path] = []

    def stop_process(self) -> None:
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
        self.stop_process()
        if self.cgroup is not None:
            self.cgroup.remove()
            self.cgroup = None
        for path in self.dirs:
            shutil.rmtree(path, ignore_errors=True)
        self.dirs = []
