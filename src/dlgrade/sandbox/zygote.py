"""The sandboxed side of a :class:`~dlgrade.sandbox.worker.Worker`: a zygote and its children.

The grader starts this file as a script, ``python -I -B zygote.py --control-fd N
--config JSON`` (inside bubblewrap where available). The zygote imports torch,
numpy, scikit-learn, matplotlib and the harness once, loads the preloaded
datasets, says it is ready, and then obeys commands on its control socket (one
JSON object per packet; pipes travel alongside as file descriptors):

``open``    fork a child for one submission, given its request and reply pipes
``reap``    wait briefly for the child to end, kill every other process, empty the
            scratch folders; answers how the child ended and what it printed
``output``  what the child has printed so far
``exit``    stop

The child (:mod:`dlgrade.sandbox.child`) is the student's process. Student code
writes its stdout and stderr to a pipe that the zygote drains into a capped
buffer; the protocol uses its own pipes. After each submission the zygote kills
every process but itself (``kill(-1)`` inside the sandbox's PID namespace;
without one, every descendant, which it adopts as a child subreaper) and empties
``/tmp``, ``/dev/shm`` and the submission's folders, so nothing reaches the next
student.

Only the standard library, ``dlgrade.harness``, ``dlgrade.data`` and the
sandbox's own standard-library modules (framing, limits, processes, scratch) are
imported here: the grader never imports this module.
"""
from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import select
import signal
import socket
import sys
import time

from dlgrade.sandbox import framing
from dlgrade.sandbox.child import PR_SET_CHILD_SUBREAPER, PR_SET_DUMPABLE, PR_SET_PDEATHSIG, Child, prctl
from dlgrade.sandbox.hugepages import collapse
from dlgrade.sandbox.limits import MAX_CONTROL, OUTPUT_BYTES
from dlgrade.sandbox.processes import descendants, kill_all, load_seccomp
from dlgrade.sandbox.scratch import empty_dir

BASE_MODULES = ("numpy", "torch", "sklearn", "sklearn.linear_model", "sklearn.metrics", "sklearn.ensemble",
                "sklearn.model_selection", "sklearn.preprocessing", "matplotlib.pyplot", "dlgrade.data",
                "dlgrade.train", "dlgrade.harness.ops", "dlgrade.harness.notebook")
"""Imported once by the zygote (``dlgrade.harness.notebook`` brings nbformat, slow to import;
``sklearn.ensemble``, 0.1 s, the forest exercise's)."""
SCRATCH = ("/tmp", "/dev/shm")
"""The sandbox's scratch folders, emptied before each submission."""


class Zygote:
    """Imports once, forks one child per submission, cleans up after it."""

    def __init__(self, sock: socket.socket, config: dict):
        self.sock = sock
        self.sandboxed = bool(config.get("sandboxed"))
        self.config = config
        self.datasets: dict = {}
        self.child: int | None = None
        self.status: dict | None = None
        self.out_r: int | None = None
        self.output = bytearray()
        self.dropped = 0
        self.output_limit = OUTPUT_BYTES
        self.threads = 1
        self.seccomp = None
        self.warnings: list[str] = []

    def start(self) -> dict:
        prctl(PR_SET_DUMPABLE, 0)  # children (same uid) may not ptrace us or read our memory
        prctl(PR_SET_CHILD_SUBREAPER, 1)  # orphans of a submission become ours, so we can kill them
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # no zygote outlives its grader
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # as the sandbox's init, only handled signals arrive
        os.chdir("/")
        import torch

        # Parallel work before fork leaves OpenMP/MKL pools that hang in the child; keep one thread
        # here and give the child the profile's count (fixed: never derived from this machine's cores).
        self.threads = max(1, int(self.config.get("threads") or 1))
        torch.set_num_threads(1)
        torch.use_deterministic_algorithms(True, warn_only=True)  # the same kernels on every run (slow: once)
        torch.backends.cudnn.benchmark = False
        import matplotlib

        matplotlib.use("Agg")
        for name in (*BASE_MODULES, *self.config.get("modules", ())):
            try:
                importlib.import_module(name)
            except Exception as exc:  # noqa: BLE001 - a missing optional module is reported, not fatal
                self.warnings.append(f"cannot import {name}: {type(exc).__name__}: {exc}")
        from dlgrade.data import load
        from dlgrade.data._files import shared_views

        with shared_views():  # a notebook's own load() of these gets a copy, not another read of the view
            for name, options in self.config.get("preload", ()):
                try:
                    self.datasets[(name, tuple(sorted(options.items())))] = load(name, **options)
                except Exception as exc:  # noqa: BLE001 - the child loads it on demand instead
                    self.warnings.append(f"cannot preload {name}: {type(exc).__name__}: {exc}")
        from dlgrade.harness.ops import warm_up

        self.warnings += warm_up()  # first-use imports and caches of the requests, paid here once
        self.seccomp, why = load_seccomp()
        if self.seccomp is None:  # degrade visibly
            self.warnings.append(f"no seccomp filter: {why}")
        if self.sandboxed:  # the first student finds the scratch folders as empty as the next ones
            for path in SCRATCH:
                empty_dir(path)
        gc.collect()
        gc.freeze()  # the children's collector leaves the shared heap alone: less copy-on-write
        huge = collapse() if self.config.get("huge_pages") else 0    # cheaper forks and exits (hugepages.py)
        return {"ready": True, "pid": os.getpid(), "threads": self.threads, "huge_pages_mb": huge >> 20,
                "seccomp": self.seccomp is not None, "warnings": self.warnings,
                "preloaded": [k[0] for k in self.datasets]}

    def serve(self) -> None:
        lines, fds = framing.Lines(MAX_CONTROL), []
        while True:
            watch = [self.sock] + ([self.out_r] if self.out_r is not None else [])
            ready, _, _ = select.select(watch, [], [], 0.5)
            if self.out_r is not None and self.out_r in ready:
                self.drain()
            if self.sock in ready:
                try:
                    data, more, _, _ = socket.recv_fds(self.sock, MAX_CONTROL, 4)
                except OSError:
                    data, more = b"", []
                if not data:
                    break
                lines.feed(data)
                fds += more
                while True:
                    try:
                        line = lines.pop()
                    except framing.BadLine:  # a control message over the limit: answered with an error
                        lines, line = framing.Lines(MAX_CONTROL), b""
                    if line is None:
                        break
                    msg, fds = self.answer(line, fds), []
                    if msg.get("cmd") == "exit":
                        self.kill_all()
                        return
            self.reap_nohang()
        self.kill_all()

    def answer(self, line: bytes, fds: list[int]) -> dict:
        """Run one command (a JSON line) and send its reply; returns the command."""
        msg = {}
        try:
            msg = framing.decode(line)
            reply = getattr(self, f"cmd_{msg['cmd']}")(msg, fds)
        except Exception as exc:  # noqa: BLE001 - answer, never die on a bad command
            for fd in fds:
                os.close(fd)
            reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        self.sock.sendall(framing.encode(reply))
        return msg

    # -- commands ----------------------------------------------------------------------------
    def cmd_open(self, msg: dict, fds: list[int]) -> dict:
        if len(fds) != 2:
            raise ValueError("open needs the request and reply pipes")
        self.end_child()
        req_r, rep_w = fds
        out_r, out_w = os.pipe()
        self.output_limit = int(msg.get("output_bytes", OUTPUT_BYTES))
        sys.stdout.flush()
        sys.stderr.flush()
        zygote = os.getpid()
        pid = os.fork()
        if pid == 0:  # the child: never returns into this loop
            code = 70
            try:
                os.close(out_r)
                Child(self, msg, req_r, rep_w, out_w, zygote).run()
                code = 0
            except BaseException:  # noqa: BLE001
                import traceback

                traceback.print_exc()
            finally:
                os._exit(code)
        for fd in (req_r, rep_w, out_w):
            os.close(fd)
        os.set_blocking(out_r, False)
        self.child, self.status, self.out_r = pid, None, out_r
        self.output, self.dropped = bytearray(), 0
        return {"ok": True, "pid": pid}

    def cmd_reap(self, msg: dict, fds) -> dict:
        deadline = time.monotonic() + float(msg.get("wait", 0))
        while self.child is not None and self.status is None and time.monotonic() < deadline:
            self.drain()
            self.reap_nohang()
            if self.status is None:
                time.sleep(0.01)
        reply = self.end_child()
        for path in msg.get("dirs", ()):
            empty_dir(path)
        if self.sandboxed:
            for path in SCRATCH:
                empty_dir(path)
        return reply

    def cmd_output(self, msg: dict, fds) -> dict:
        self.drain()
        return {"ok": True, "output": self.output.decode("utf-8", "replace"), "dropped": self.dropped}

    def cmd_exit(self, msg: dict, fds) -> dict:
        self.end_child()
        return {"ok": True}

    # -- processes -----------------------------------------------------------------------------
    def end_child(self) -> dict:
        """Kill everything but us, collect the output; how the child ended."""
        self.kill_all()
        if self.out_r is not None:
            for _ in range(64):  # what is left in the pipe
                if not self.drain():
                    break
            if self.out_r is not None:
                os.close(self.out_r)
                self.out_r = None
        reply = {"ok": True, "status": self.status, "output": self.output.decode("utf-8", "replace"),
                 "dropped": self.dropped}
        self.child = None
        return reply

    def drain(self) -> bool:
        """Read a bounded amount of the child's output; False at end of file or when nothing is waiting."""
        for _ in range(64):
            if self.out_r is None:
                return False
            try:
                chunk = os.read(self.out_r, 1 << 16)
            except BlockingIOError:
                return False
            except OSError:
                chunk = b""
            if not chunk:
                os.close(self.out_r)
                self.out_r = None
                return False
            room = max(0, self.output_limit - len(self.output))
            self.output += chunk[:room]
            self.dropped += len(chunk) - min(room, len(chunk))
        return True

    def reap_nohang(self) -> None:
        while True:
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid == self.child and self.status is None:
                self.status = {
                    "exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
                    "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
                    "cpu": round(usage.ru_utime + usage.ru_stime, 3),
                }

    def others(self) -> list[int]:
        """Every other process of this sandbox (PID namespace, where we are init), or every descendant
        without one."""
        me = os.getpid()
        if self.sandboxed:
            return [int(d) for d in os.listdir("/proc") if d.isdigit() and int(d) not in (1, me)]
        return descendants(me)

    def kill_all(self) -> None:
        for attempt in range(400):
            victims = self.others()
            if not victims:
                return
            if self.sandboxed:  # atomic against forks: the kernel signals the whole namespace at once
                try:
                    os.kill(-1, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            else:
                kill_all(victims)
            self.reap_nohang()
            time.sleep(0.002 if attempt < 20 else 0.02)
        print(f"dlgrade worker: processes survived the kill: {self.others()[:10]}", file=sys.stderr)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--control-fd", type=int, required=True)
    parser.add_argument("--config", required=True, help="JSON: sandboxed, preload, modules, threads")
    args = parser.parse_args(argv)
    sys.dont_write_bytecode = True
    sock = socket.socket(fileno=args.control_fd)
    zygote = Zygote(sock, json.loads(args.config))
    try:
        hello = zygote.start()
    except BaseException as exc:
        sock.sendall(framing.encode({"ready": False, "error": f"{type(exc).__name__}: {exc}"}))
        raise
    sock.sendall(framing.encode(hello))
    zygote.serve()


if __name__ == "__main__":
    main()
