"""Resource limits of a sandboxed submission, and the caps on what crosses the sandbox's edge.

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

The caps on what crosses between the grader and the sandbox (message sizes,
figures) are defined here too, once, for every end. Only the standard library is
used: the sandboxed side imports this module. The cgroups are in
:mod:`dlgrade.sandbox.cgroups`; the worker receives the rlimits as plain data
(:meth:`Limits.rlimits`).
"""
from __future__ import annotations

from dataclasses import dataclass, fields

MAX_CONTROL = 1 << 20
"""Longest control message between the grader and the zygote."""
MAX_REQUEST = 512 << 20
"""Longest request to a submission's process (the notebook's cells travel in the first one)."""
MAX_REPLY = 64 << 20
"""Longest reply from a submission's process (arrays travel as files)."""
MAX_FIGURES = 10
"""Figures left open by a notebook that are saved and copied to the grader."""
MAX_FIGURE_BYTES = 4 << 20
"""Largest figure (a PNG file) the grader accepts."""
OUTPUT_BYTES = 1 << 20
"""Default cap on what a submission prints (:attr:`Limits.output_bytes`)."""


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
    output_bytes: int = OUTPUT_BYTES
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
