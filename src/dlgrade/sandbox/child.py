"""The student's process: a child of the worker's zygote that runs one submission.

Forked by :class:`dlgrade.sandbox.zygote.Zygote`, it confines itself (new session,
parent-death signal, stdout and stderr to the zygote's output pipe, the first
choice of the out-of-memory killer, rlimits, a seccomp filter denying network
sockets and process tracing), then speaks JSON lines with the grader on its own
pipes: the first request is the notebook, run cell by cell with
:func:`dlgrade.harness.notebook.run_cells` semantics and a ``progress`` message
before each cell (so the grader knows which cell hung or crashed); every later
request is answered by :class:`dlgrade.harness.ops.Dispatcher`. Student code
could write to the reply pipe too: the grader validates every reply.
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import signal
import socket
import sys
import time

from dlgrade.sandbox import framing
from dlgrade.sandbox.limits import MAX_FIGURES, MAX_REPLY, MAX_REQUEST

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
DENIED_SYSCALLS = ("ptrace", "process_vm_readv", "process_vm_writev", "io_uring_setup", "bpf",
                   "perf_event_open", "userfaultfd", "keyctl", "add_key", "request_key", "unshare",
                   "setns", "mount", "umount2", "pivot_root", "chroot")
"""Denied to student code with EPERM, besides sockets other than AF_UNIX (io_uring could open sockets)."""

_libc = ctypes.CDLL(None, use_errno=True)


def prctl(option: int, value: int) -> None:
    if _libc.prctl(option, ctypes.c_ulong(value), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0)):
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class Requests:
    """Blocking reader of the grader's requests from a pipe (None at the end or on a bad line)."""

    def __init__(self, fd: int):
        self.fd, self.lines = fd, framing.Lines(MAX_REQUEST)

    def read(self) -> dict | None:
        try:
            while (line := self.lines.pop()) is None:
                chunk = os.read(self.fd, 1 << 20)
                if not chunk:
                    return None
                self.lines.feed(chunk)
            return framing.decode(line)
        except framing.BadLine:
            return None


class Child:
    """Runs one submission: the notebook, then the hidden tests' requests."""

    def __init__(self, zygote, msg: dict, req_r: int, rep_w: int, out_w: int, zygote_pid: int):
        self.zygote, self.msg = zygote, msg
        self.req_r, self.rep_w, self.out_w, self.zygote_pid = req_r, rep_w, out_w, zygote_pid
        self.notes: list[str] = []

    def run(self) -> None:
        self.confine()
        lines = Requests(self.req_r)
        first = lines.read()
        if not first or first.get("op") != "__notebook__" or not isinstance(first.get("fields"), dict):
            return
        ns = {"__name__": "__main__"}
        self.send({"seq": 0, "ok": True, "value": self.run_notebook(ns, first["fields"])})
        from dlgrade.harness.ops import Dispatcher, describe_exception
        from dlgrade.harness.values import DirStore

        dispatcher = Dispatcher(ns, DirStore(self.msg["io"], side="s"), device=self.msg.get("device", "auto"),
                                datasets=self.zygote.datasets)
        while True:
            request = lines.read()
            if request is None:
                return
            seq, op, fields = request.get("seq"), request.get("op"), request.get("fields")
            if not (isinstance(seq, int) and isinstance(op, str) and isinstance(fields, dict)):
                return
            try:
                response = dispatcher.handle({"op": op, "fields": fields})
            except SystemExit as exc:
                response = {"ok": False, "error": {"kind": "crashed", "message": (
                    f"your code called sys.exit({exc.code!r}) while answering; the request was stopped")[:500]}}
            except BaseException as exc:  # noqa: BLE001 - KeyboardInterrupt and friends from student code
                response = {"ok": False, "error": describe_exception(exc)}
            self.send({**response, "seq": seq})

    def send(self, message: dict) -> None:
        try:
            data = framing.encode(message, allow_nan=False)
        except (TypeError, ValueError) as exc:
            data = framing.encode({"seq": message.get("seq"), "ok": False, "error": {
                "kind": "bad_output", "message": f"the answer could not be sent ({exc})"[:300]}})
        if len(data) > MAX_REPLY:
            data = framing.encode({"seq": message.get("seq"), "ok": False, "error": {
                "kind": "bad_output", "message": f"the answer is too large to send "
                f"({len(data) >> 20} MiB of JSON; return arrays instead of long lists)"}})
        write_all(self.rep_w, data)

    # -- confinement ---------------------------------------------------------------------------------
    def confine(self) -> None:
        os.setsid()  # its own session and process group; the zygote still kills it by pid
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != self.zygote_pid:  # the zygote died before the line above
            os._exit(1)
        self.zygote.sock.close()  # the grader's control channel is not for student code
        null = os.open("/dev/null", os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(self.out_w, 1)
        os.dup2(self.out_w, 2)
        for fd in (null, self.out_w):
            os.close(fd)
        prctl(PR_SET_DUMPABLE, 1)  # a normal process again (its own /proc files)
        try:
            with open("/proc/self/oom_score_adj", "w") as fh:
                fh.write("1000")  # the kernel's first choice when memory runs out, never the zygote
        except OSError:
            pass
        os.umask(0o077)
        os.chdir(self.msg["work"])
        os.environ.update(HOME=self.msg["work"], TMPDIR=self.msg.get("tmp", "/tmp"))
        self.set_rlimits(self.msg.get("rlimits", {}))
        self.set_seccomp()
        import torch

        torch.set_num_threads(self.zygote.threads)
        sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115 - the process's own streams
        sys.stdout = open(1, "w", buffering=1, encoding="utf-8", errors="backslashreplace", closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", buffering=1, encoding="utf-8", errors="backslashreplace", closefd=False)  # noqa: SIM115
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)

    def set_rlimits(self, plan: dict) -> None:
        for name, (soft, hard) in plan.items():
            if name == "AS_EXTRA":
                res, soft, hard = resource.RLIMIT_AS, vm_size() + soft, vm_size() + hard
            elif name == "NPROC_EXTRA":
                used = user_tasks(os.getuid())
                res, soft, hard = resource.RLIMIT_NPROC, used + soft, used + hard
            else:
                res = getattr(resource, f"RLIMIT_{name}")
            _, cur_hard = resource.getrlimit(res)
            if cur_hard != resource.RLIM_INFINITY:
                soft, hard = min(soft, cur_hard), min(hard, cur_hard)
            try:
                resource.setrlimit(res, (soft, hard))
            except (ValueError, OSError) as exc:
                self.notes.append(f"RLIMIT_{name} not set ({exc})")

    def set_seccomp(self) -> None:
        sc = self.zygote.seccomp
        if sc is None:
            self.notes.append("no seccomp filter")
            return
        try:
            filt = sc.SyscallFilter(sc.ALLOW)
            filt.add_rule(sc.ERRNO(1), "socket", sc.Arg(0, sc.NE, socket.AF_UNIX))
            filt.add_rule(sc.ERRNO(1), "socketpair", sc.Arg(0, sc.NE, socket.AF_UNIX))
            for name in DENIED_SYSCALLS:
                with contextlib.suppress(Exception):  # a syscall this kernel or libseccomp does not know
                    filt.add_rule(sc.ERRNO(1), name)
            filt.load()
        except Exception as exc:  # noqa: BLE001 - degrade visibly
            self.notes.append(f"seccomp filter not loaded ({type(exc).__name__}: {exc})")

    # -- the notebook ------------------------------------------------------------------------------------
    def run_notebook(self, ns: dict, fields: dict) -> dict:
        from dlgrade.harness.notebook import CodeCell, run_cells

        skip = {int(k): str(v) for k, v in (fields.get("skip") or {}).items()}
        deadline = time.monotonic() + float(fields.get("time_limit", 60))
        results = []
        for spec in fields.get("cells", ()):
            cell = CodeCell(int(spec["index"]), str(spec["id"]), spec.get("role"), str(spec["source"]))
            if cell.index in skip:
                results.append([cell.index, "error", skip[cell.index]])
                continue
            if not cell.skipped:
                self.send({"seq": 0, "progress": cell.index})
            try:
                results.extend([c.index, status, msg] for c, status, msg in run_cells([cell], ns, deadline=deadline))
            except KeyboardInterrupt:
                results.append([cell.index, "error", "KeyboardInterrupt raised in the cell"])
        figures = []
        if fields.get("figures", True) and time.monotonic() < deadline:
            self.send({"seq": 0, "progress": "figures"})
            figures = self.save_figures()
        return {"cells": results, "figures": figures, "notes": self.notes}

    def save_figures(self) -> list[str]:
        plt = sys.modules.get("matplotlib.pyplot")
        names = []
        try:
            for k, num in enumerate(list(plt.get_fignums())[:MAX_FIGURES] if plt else []):
                name = f"fig{k}.png"
                plt.figure(num).savefig(os.path.join(self.msg["io"], name), format="png")
                names.append(name)
        except Exception as exc:  # noqa: BLE001 - a figure that cannot be drawn is left out
            self.notes.append(f"figures: {type(exc).__name__}: {exc}"[:200])
        return names


def vm_size() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def user_tasks(uid: int) -> int:
    """Threads running as ``uid`` on this machine (RLIMIT_NPROC counts them all)."""
    count = 0
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                if os.stat(f"/proc/{d}").st_uid == uid:
                    count += len(os.listdir(f"/proc/{d}/task"))
            except OSError:
                continue
    return count
