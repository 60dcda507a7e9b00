"""Removing what graders that are gone left behind.

Every resource a :class:`~dlgrade.sandbox.worker.Worker` makes carries the pid
of the grader that made it: ``<tmp>/dlgrade-worker-<pid>-*`` (its log and
figures), ``/dev/shm/dlgrade-box-<pid>-*`` or ``<tmp>/dlgrade-box-<pid>-*`` (the
exchange folders, with the students' files), ``<tmp>/dlgrade-probe-<pid>-*`` and
the cgroups ``dlgrade-<pid>-<n>``. A grader killed with SIGKILL cannot remove
them; :func:`remove_leftovers`, called by every new Worker, removes those whose
grader is no longer running (a folder of a live grader is never touched).
"""
from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

from dlgrade.sandbox.cgroups import CGROUP_ROOT
from dlgrade.sandbox.processes import kill_all

log = logging.getLogger(__name__)

FOLDER = re.compile(r"dlgrade-(?:worker|box|probe)-(\d+)-[^/]*")
CGROUP = re.compile(r"dlgrade-(\d+)-\d+")


def remove_leftovers(tmp: Path | None = None, shm: Path = Path("/dev/shm"),
                     cgroups: Path = CGROUP_ROOT) -> list[Path]:
    """Remove the folders and cgroups of graders that are gone; what was removed."""
    removed = []
    for folder in dict.fromkeys([Path(tmp or tempfile.gettempdir()), shm]):
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            match = FOLDER.fullmatch(name)
            path = folder / name
            if match and not _alive(int(match.group(1))) and path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
    if os.geteuid() == 0:
        removed += _remove_cgroups(cgroups)
    if removed:
        log.info("removed %d leftover(s) of graders that are gone", len(removed))
    return removed


def _remove_cgroups(root: Path) -> list[Path]:
    found = []
    try:
        own = [line.split(":", 2)[2] for line in Path("/proc/self/cgroup").read_text().splitlines()]
    except OSError:
        return []
    parents = {root}  # v2: next to ours; v1: in each controller's hierarchy
    for rel in own:
        parents.add(root / rel.lstrip("/"))
        for controller in ("memory", "pids"):
            parents.add(root / controller / rel.lstrip("/"))
    for parent in parents:
        try:
            names = os.listdir(parent)
        except OSError:
            continue
        for name in names:
            match = CGROUP.fullmatch(name)
            if match and not _alive(int(match.group(1))) and (parent / name / "cgroup.procs").exists():
                if _remove_cgroup(parent / name):
                    found.append(parent / name)
    return found


def _remove_cgroup(path: Path) -> bool:
    """Kill what is left in the cgroup ``path``, then remove it."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            pids = [int(p) for p in (path / "cgroup.procs").read_text().split()]
        except OSError:
            pids = []
        kill_all(pids)
        try:
            path.rmdir()
            return True
        except FileNotFoundError:
            return False
        except OSError:
            time.sleep(0.05)
    log.warning("could not remove the leftover cgroup %s", path)
    return False


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists (a zombie counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
