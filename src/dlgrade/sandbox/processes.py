"""Processes of a sandbox: finding and killing a process tree, the seccomp probe, and why a
submission's process stopped.

Used on both sides: by the grader (killing a worker's sandbox, describing its
isolation) and by the zygote (killing what a submission left running, loading
the seccomp filter). Only the standard library is imported here.
"""
from __future__ import annotations

import os
import signal


def load_seccomp():
    """``(pyseccomp, "")`` when pyseccomp and libseccomp can build a filter here, else ``(None, why)``."""
    try:
        import pyseccomp

        pyseccomp.SyscallFilter(pyseccomp.ALLOW)  # loads libseccomp
        return pyseccomp, ""
    except Exception as exc:  # noqa: BLE001 - missing module or libseccomp
        return None, f"{type(exc).__name__}: {exc}"


def seccomp_available() -> bool:
    """Whether pyseccomp and libseccomp can build a filter here."""
    return load_seccomp()[0] is not None


def descendants(pid: int) -> list[int]:
    """The processes below ``pid`` (children, their children, ...), read from ``/proc``."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as fh:
                    ppid = int(fh.read().rsplit(b")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    found, todo = [], list(children.get(pid, ()))
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children.get(p, ()))
    return found


def kill_all(pids) -> None:
    """SIGKILL each of ``pids`` (those already gone are skipped)."""
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass


def kill_tree(pid: int) -> None:
    """SIGKILL ``pid`` and its descendants (the whole sandbox dies with bwrap)."""
    kill_all([pid, *descendants(pid)])


def explain(info: dict, *, memory_bytes: int, cpu_seconds: int, memory_limited: bool) -> str:
    """Why the submission's process stopped, for the student, from what the zygote reported
    (``status``: exit code, signal, CPU seconds) and the grader saw (``oom``, ``zygote_lost``)."""
    status = info.get("status") or {}
    sig, code, cpu = status.get("signal"), status.get("exit"), status.get("cpu") or 0
    mib = memory_bytes >> 20
    if info.get("oom"):
        return f"it ran out of memory (the limit is {mib} MiB) and was stopped"
    if sig == signal.SIGXCPU or (sig == signal.SIGKILL and cpu >= cpu_seconds):
        return f"it used up its CPU time ({cpu_seconds} s) and was stopped"
    if sig == signal.SIGKILL:
        likely = f"most likely it ran out of memory (the limit is {mib} MiB)" if memory_limited else "it was killed"
        return f"it was killed (SIGKILL); {likely}"
    if sig is not None:
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        return f"it crashed ({name})" + ("; this often means it ran out of memory" if sig in (
            signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS) else "")
    if code is not None:
        return (f"it exited with code {code}: does the code call os._exit() or sys.exit() outside a "
                f"function, or kill its own process?")
    if info.get("zygote_lost"):
        return "the sandbox it ran in stopped (did the code kill or stop other processes?)"
    return "it stopped for an unknown reason"
