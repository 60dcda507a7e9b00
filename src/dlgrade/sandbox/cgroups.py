"""The cgroups that hold a worker's sandbox: memory and process limits, out-of-memory kills.

A cgroup per worker sandbox (v1 ``memory`` + ``pids`` controllers, or v2) is
created by the grader when it runs as root, under the grader's own cgroup; it
limits memory above what the worker itself uses, and processes (see
:mod:`dlgrade.sandbox.limits` for the other layers). Everything here runs in the
grader's process.
"""
from __future__ import annotations

import itertools
import logging
import os
import time
from pathlib import Path

log = logging.getLogger(__name__)

CGROUP_ROOT = Path("/sys/fs/cgroup")
_names = itertools.count()


class Cgroup:
    """A cgroup holding one worker sandbox, with memory and pids limits.

    Created under the grader's own cgroup (v1: one folder per controller; v2:
    one folder). :meth:`create` returns None, with the reason in
    :attr:`Cgroup.unavailable`, where the grader may not create one.
    """

    unavailable = ""
    """Why the last :meth:`create` returned None (for the isolation message)."""

    def __init__(self, version: int, dirs: dict[str, Path]):
        self.version = version
        self.dirs = dirs
        """Controller ("memory", "pids") -> the cgroup's folder (the same folder twice for v2)."""

    # -- creation ---------------------------------------------------------------------
    @classmethod
    def create(cls) -> Cgroup | None:
        if os.geteuid() != 0:
            cls.unavailable = "not root"
            return None
        name = f"dlgrade-{os.getpid()}-{next(_names)}"
        try:
            own = _own_cgroups()
        except OSError as exc:
            cls.unavailable = f"cannot read /proc/self/cgroup ({exc.strerror})"
            return None
        if (CGROUP_ROOT / "cgroup.controllers").exists():  # pure v2
            return cls._create_v2(own.get("", "/"), name)
        dirs = {}
        for controller in ("memory", "pids"):
            mount = CGROUP_ROOT / controller
            if controller not in own or not (mount / "cgroup.procs").exists():
                continue
            path = mount / own[controller].lstrip("/") / name
            try:
                path.mkdir()
            except OSError as exc:
                log.debug("cannot create %s: %s", path, exc)
                continue
            dirs[controller] = path
        if not dirs:
            cls.unavailable = "no writable cgroup v1 memory or pids controller"
            return None
        return cls(1, dirs)

    @classmethod
    def _create_v2(cls, own: str, name: str) -> Cgroup | None:
        path = CGROUP_ROOT / own.lstrip("/") / name
        try:
            path.mkdir()
        except OSError as exc:
            cls.unavailable = f"cannot create a cgroup v2 folder ({exc.strerror})"
            return None
        enabled = set((path / "cgroup.controllers").read_text().split())
        dirs = {c: path for c in ("memory", "pids") if c in enabled}
        if not dirs:
            path.rmdir()
            cls.unavailable = "cgroup v2 without delegated memory or pids controllers"
            return None
        return cls(2, dirs)

    @property
    def description(self) -> str:
        return f"cgroup v{self.version} {'+'.join(sorted(self.dirs))} limits"

    @property
    def procs_files(self) -> list[Path]:
        """Files to write the sandbox's pid into (once per distinct folder)."""
        return [p / "cgroup.procs" for p in dict.fromkeys(self.dirs.values())]

    # -- limits ------------------------------------------------------------------------
    def limit(self, *, memory_bytes: int | None, pids: int | None) -> None:
        """Set (or with None, lift) the limits on the whole sandbox."""
        mem = self.dirs.get("memory")
        if mem is not None:
            if self.version == 1:
                value = str(memory_bytes) if memory_bytes else "-1"
                swap = mem / "memory.memsw.limit_in_bytes"  # present only with swap accounting
                if memory_bytes is None and swap.exists():
                    _write(swap, "-1")
                _write(mem / "memory.limit_in_bytes", value)
                if memory_bytes is not None and swap.exists():
                    _write(swap, value)
            else:
                _write(mem / "memory.max", str(memory_bytes) if memory_bytes else "max")
                if (mem / "memory.swap.max").exists():
                    _write(mem / "memory.swap.max", "0" if memory_bytes else "max")
        if "pids" in self.dirs:
            _write(self.dirs["pids"] / "pids.max", str(pids) if pids else "max")

    def memory_usage(self) -> int:
        mem = self.dirs.get("memory")
        if mem is None:
            return 0
        name = "memory.usage_in_bytes" if self.version == 1 else "memory.current"
        return int((mem / name).read_text())

    def pids_usage(self) -> int:
        return int((self.dirs["pids"] / "pids.current").read_text()) if "pids" in self.dirs else 0

    def oom_kills(self) -> int:
        """Processes the kernel killed for lack of memory in this cgroup so far."""
        mem = self.dirs.get("memory")
        if mem is None:
            return 0
        name = "memory.oom_control" if self.version == 1 else "memory.events"
        try:
            for line in (mem / name).read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
        except (OSError, ValueError):
            pass
        return 0

    def remove(self, timeout: float = 5.0) -> None:
        """Remove the cgroup once its processes are gone (waits up to ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        for path in dict.fromkeys(self.dirs.values()):
            while True:
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        log.warning("could not remove cgroup %s (processes still in it)", path)
                        break
                    time.sleep(0.05)


def _own_cgroups() -> dict[str, str]:
    """Controller -> this process's cgroup path ("" for the v2 hierarchy)."""
    out = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for c in controllers.split(","):
            out[c] = path
    return out


def _write(path: Path, value: str) -> None:
    with open(path, "w") as fh:
        fh.write(value)
