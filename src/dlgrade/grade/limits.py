"""Resource limits of a sandboxed submission, and the cgroups that enforce some of them.

:class:`Limits` says how much a submission may use. The limits are applied in
layers, each where the platform offers it:

* rlimits, set in the submission's process right after it is forked: CPU time,
  file size, open files, processes (``RLIMIT_NPROC`` counts threads), no core
  files, and ``RLIMIT_AS`` for memory when no memory cgroup is available (CPU
  jobs only: CUDA reserves huge virtual ranges, and torch breaks below ~4 GiB);
* a cgroup per worker sandbox (v1 ``memory`` + ``pids`` controllers, or v2),
  created by the grader when it runs as root: memory above what the worker
  itself uses, and processes;
* the wall-clock limits are the grader's (``time_limit``, ``request_timeout``).

Everything here runs in the grader's process; the worker receives the rlimits
as plain data (:meth:`Limits.rlimits`).
"""
from __future__ import annotations

import itertools
import logging
import os
import time
from dataclasses import dataclass, fields
from pathlib import Path

log = logging.getLogger(__name__)

CGROUP_ROOT = Path("/sys/fs/cgroup")
_names = itertools.count()


@dataclass(frozen=True)
class Limits:
    """What one submission may use. Defaults suit the quick profile on a CPU."""

    cpu_seconds: int = 600
    """CPU seconds for the submission's process (``RLIMIT_CPU``: SIGXCPU, then SIGKILL 2 s later).
    Counted over the notebook run and all the hidden tests' requests."""
    memory_bytes: int = 4 << 30
    """Memory the submission may add to the worker's own: a cgroup limit when the grader can
    create one (root), else ``RLIMIT_AS`` over the process's address space at fork (CPU jobs only)."""
    processes: int = 256
    """Processes and threads (pids cgroup and ``RLIMIT_NPROC``, which counts threads; torch
    starts one per core)."""
    open_files: int = 1024
    """Open file descriptors (``RLIMIT_NOFILE``; torch and matplotlib need several hundred)."""
    file_size_bytes: int = 256 << 20
    """Largest file the submission may write (``RLIMIT_FSIZE``: writes beyond fail with EFBIG)."""
    output_bytes: int = 1 << 20
    """Captured stdout/stderr kept per submission; the rest is counted and dropped."""

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"Limits.{f.name} should be a positive integer, got {value!r}")
        if self.open_files < 64:
            raise ValueError(f"Limits.open_files should be at least 64 (Python needs them), got {self.open_files}")
        if self.processes < 16:
            raise ValueError(f"Limits.processes should be at least 16 (torch starts threads), got {self.processes}")

    def rlimits(self, *, address_space: bool, nproc: str | None) -> dict:
        """The rlimits for the submission's process, as ``{name: [soft, hard]}`` (plain data).

        ``address_space``: also limit ``RLIMIT_AS`` (the worker adds its own size at fork).
        ``nproc``: ``"extra"`` to allow :attr:`processes` on top of the tasks its user
        already runs (``RLIMIT_NPROC`` counts per user, per user namespace), None to leave
        it (root ignores it anyway).
        """
        plan = {
            "CPU": [self.cpu_seconds, self.cpu_seconds + 2],
            "FSIZE": [self.file_size_bytes, self.file_size_bytes],
            "NOFILE": [self.open_files, self.open_files],
            "CORE": [0, 0],
        }
        if nproc == "extra":
            plan["NPROC_EXTRA"] = [self.processes, self.processes]
        if address_space:
            plan["AS_EXTRA"] = [self.memory_bytes, self.memory_bytes]
        return plan


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
