"""How a worker's zygote is started: its command line, environment and view of the machine, the
words that describe its isolation, and whether the sandbox can start here at all."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from dlgrade.sandbox import bwrap
from dlgrade.sandbox.cgroups import Cgroup
from dlgrade.sandbox.processes import seccomp_available

ZYGOTE_SCRIPT = Path(__file__).resolve().with_name("zygote.py")
"""The zygote, started as a script (``python -I -B zygote.py``): no package path is trusted inside."""
PYTHON = str(Path(os.path.realpath(Path(sys.executable).parent)) / Path(sys.executable).name)
"""The grader's interpreter, its folder's links resolved (the sandbox has the real paths)."""
CGROUP_LAUNCH = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 97; shift; done; shift; exec "$@"'
"""Shell that moves itself into the cgroup's ``cgroup.procs`` files given before ``--``, then runs the rest."""
HOST_PATH = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
"""The environment of setpriv and bwrap themselves (the sandbox gets its own, :func:`zygote_env`)."""


def sandbox_available() -> bool:
    """Can ``Worker(sandbox="bwrap")`` start here?"""
    return not sandbox_problem()


def sandbox_problem() -> str:
    """'' when ``Worker(sandbox="bwrap")`` can start here, else why not (for messages and test skips)."""
    return bwrap.probe(bwrap.sandbox_ids(), PYTHON, tuple(map(str, needed_paths())))


def needed_paths() -> list[Path]:
    """Folders the zygote needs to see: Python, dlgrade, the student views of the data.

    No data folder is visible: the real files hold the grader's test split. The datasets are
    read from the views ``dlgrade.data.write_sandbox_views`` writes (``dlgrade.data.views_folder``).
    """
    from dlgrade.data import views_folder

    paths = [Path(p) for p in bwrap.python_paths(sys.executable)]
    paths.append(Path(PYTHON).parent)
    paths += [ZYGOTE_SCRIPT.parents[2], views_folder()]
    return [p.expanduser() for p in paths]


def split_preload(preload) -> tuple[list, list]:
    """``preload`` as (datasets: ``[name, options]`` pairs, modules: names); ValueError for anything else."""
    datasets, modules = [], []
    for item in preload:
        if isinstance(item, str):
            modules.append(item)
        elif isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[0], str) \
                and isinstance(item[1], dict):
            datasets.append([item[0], dict(item[1])])
        else:
            raise ValueError(f"preload entries are (dataset name, options) pairs or module names, got {item!r}")
    return datasets, modules


def zygote_env(*, sandboxed: bool, scratch: Path, threads: int, views: dict | None = None) -> dict:
    """The zygote's whole environment (nothing of the grader's leaks in); ``views``: the student views
    of the datasets (``dlgrade.data.write_sandbox_views``), the only data files the sandbox reads."""
    from dlgrade.data import STUDENT_VIEWS_ENV, get_data_home

    tmp = "/tmp" if sandboxed else str(scratch)
    env = {"PATH": f"{Path(PYTHON).parent}:/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
           "HOME": tmp, "TMPDIR": tmp, "MPLBACKEND": "Agg", "MPLCONFIGDIR": f"{tmp}/.matplotlib",
           "XDG_CACHE_HOME": f"{tmp}/.cache", "DLGRADE_GRADING": "1",
           "DLGRADE_DATA_HOME": str(get_data_home().resolve()),
           STUDENT_VIEWS_ENV: json.dumps(views or {}, sort_keys=True),
           # the same thread counts and kernels on every machine: measurements must not depend on it
           "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
           "OPENBLAS_NUM_THREADS": str(threads), "CUBLAS_WORKSPACE_CONFIG": ":4096:8"}
    if "CUDA_VISIBLE_DEVICES" in os.environ:
        env["CUDA_VISIBLE_DEVICES"] = os.environ["CUDA_VISIBLE_DEVICES"]
    return env


def unsandboxed_command(*, control_fd: int, config: dict) -> list[str]:
    """The zygote's command line without bubblewrap (``--sandbox none``)."""
    return [PYTHON, "-I", "-B", str(ZYGOTE_SCRIPT), "--control-fd", str(control_fd), "--config", json.dumps(config)]


def in_cgroup(cmd: list[str], cgroup: Cgroup | None) -> list[str]:
    """``cmd``, started inside ``cgroup`` when there is one."""
    if cgroup is None:
        return cmd
    return ["/bin/sh", "-c", CGROUP_LAUNCH, "sh", *map(str, cgroup.procs_files), "--", *cmd]


def describe_isolation(*, reason: str, sandboxed: bool, cgroup: Cgroup | None, gpu: bool, as_user: bool) -> str:
    """What isolation is in force, in words (``Worker.isolation``); ``reason``: why there is no sandbox."""
    parts = []
    if cgroup is not None:
        parts.append(cgroup.description)
    if not (cgroup and "memory" in cgroup.dirs):
        parts.append("RLIMIT_AS memory limit" if not gpu else "no memory limit (GPU job, no cgroup)")
    parts.append("seccomp socket filter" if seccomp_available() else "no seccomp filter")
    parts.append("rlimits on CPU time, file size, open files and processes")
    if sandboxed:
        user = bwrap.SANDBOX_USER if as_user else "the grader's user"
        extra = ", GPU devices bound" if gpu else ""
        return (f"bubblewrap (user {user}, no network, read-only allow-list file system: system, Python, "
                f"dlgrade, data, public assignment; private /tmp, pid namespace{extra}); " + ", ".join(parts))
    return (f"none (UNSANDBOXED: {reason}; student code ran with the grader's own rights and could read "
            "and change anything the grader can); " + ", ".join(parts))
