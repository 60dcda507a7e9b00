"""The bubblewrap command line that confines a worker, and whether bubblewrap works here.

The file-system view is planned in :mod:`dlgrade.sandbox.mounts`. All namespaces
are unshared (network, PID, IPC, UTS, user), no further user namespaces may be
made, the sandbox runs in a new session and dies with the grader; the worker is
the PID namespace's init (pid 1).

When the grader runs as root, bubblewrap is started as :data:`SANDBOX_USER`
through ``setpriv --no-new-privs`` (started as root, bwrap would keep root's
power and could read root-only files). That user cannot enter folders such as
``/root`` or a ``mktemp -d`` folder (mode 0700), where Python or the course may
be: such folders are then *staged* first, as root, in a private mount namespace
(``unshare --mount``): each is covered by an empty tmpfs into which only the
visible paths are bound back. The host's mounts are not touched.
"""
from __future__ import annotations

import functools
import json
import os
import pwd
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

from dlgrade.sandbox.mounts import Mounts, system_view, under, visible_args

SANDBOX_USER = "nobody"
"""The unprivileged user a root grader runs the sandbox as."""
NAMESPACES = ["--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent", "--new-session",
              "--as-pid-1"]
"""Namespaces and process options. With ``--as-pid-1`` the zygote is the PID namespace's init: student
code can neither signal it (init ignores signals it has no handler for) nor read its memory (it is
not dumpable), and no dumpable reaper sits at pid 1."""


def sandbox_ids() -> tuple[int, int] | None:
    """(uid, gid) to run the sandbox as: :data:`SANDBOX_USER` when the grader is root, else None (itself)."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(SANDBOX_USER)
        return entry.pw_uid, entry.pw_gid
    except KeyError:
        return 65534, 65534


def prefix(ids: tuple[int, int] | None) -> list[str]:
    """``setpriv`` dropping to ``ids`` (nothing when None)."""
    if ids is None:
        return []
    return ["setpriv", f"--reuid={ids[0]}", f"--regid={ids[1]}", "--clear-groups", "--no-new-privs",
            "--inh-caps=-all", "--bounding-set=-all", "--"]


@functools.lru_cache(maxsize=4)
def python_paths(executable: str) -> tuple[str, ...]:
    """What ``python -I`` needs to see: its prefixes and ``sys.path`` (with ``.pth`` entries)."""
    code = "import sys, json; print(json.dumps([sys.prefix, sys.base_prefix, sys.exec_prefix, *sys.path]))"
    try:
        out = subprocess.run([executable, "-I", "-c", code], capture_output=True, text=True, timeout=60,
                             check=True).stdout
        found = json.loads(out)
    except (OSError, subprocess.SubprocessError, ValueError):
        found = [sys.prefix, sys.base_prefix, sys.exec_prefix, *sys.path]
    return tuple(dict.fromkeys(str(Path(p).resolve()) for p in found if p and Path(p).is_dir()))


def _locked_ancestor(path: Path) -> Path | None:
    """The highest folder above ``path`` that other users may not enter, if any."""
    for parent in reversed(path.parents):
        if parent == Path("/"):
            continue
        try:
            if not os.stat(parent).st_mode & stat.S_IXOTH:
                return parent
        except OSError:
            return None
    return None


def staging(needed: list[Path], ids: tuple[int, int] | None, scratch: Path) -> list[str]:
    """Command prefix that stages locked folders holding ``needed`` paths (see the module docstring).

    Empty when nothing needs it (the grader is not root, or every needed path can be entered).
    ``scratch`` is a grader-owned folder for the moment the mounts move.
    """
    if ids is None:
        return []
    groups: dict[Path, list[Path]] = {}
    for path in dict.fromkeys(p.resolve() for p in needed if p.exists()):
        locked = _locked_ancestor(path)
        if locked is not None:
            groups.setdefault(locked, []).append(path)
    if not groups:
        return []
    q = shlex.quote
    lines = ["set -e"]
    moves = []
    for locked, paths in groups.items():
        paths = [p for p in paths if not any(o != p and under(p, o) for o in paths)]
        for path in paths:
            slot = scratch / f"m{len(moves)}"
            lines += [f"mkdir -p {q(str(slot))}", f"mount --bind {q(str(path))} {q(str(slot))}"]
            moves.append((slot, path))
        lines.append(f"mount -t tmpfs -o mode=0755,size=1m dlgrade-stage {q(str(locked))}")
    for slot, path in moves:
        lines += [f"mkdir -p {q(str(path))}", f"mount --bind {q(str(slot))} {q(str(path))}",
                  f"mount -o remount,bind,ro {q(str(path))}", f"umount -l {q(str(slot))}"]
    lines.append('exec "$@"')
    return ["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", "\n".join(lines), "sh"]


@functools.lru_cache(maxsize=8)
def probe(ids: tuple[int, int] | None, python: str, needed: tuple[str, ...] = ()) -> str:
    """'' when bubblewrap can start ``python`` here as :func:`command` would (the same view of
    the file system, with the ``needed`` paths), else why not, in one line."""
    if shutil.which("bwrap") is None:
        return "bubblewrap (bwrap) is not installed"
    if ids is not None and shutil.which("setpriv") is None:
        return "setpriv is not installed (needed to run bubblewrap as an unprivileged user)"
    paths = [Path(p) for p in needed]
    scratch = Path(tempfile.mkdtemp(prefix=f"dlgrade-probe-{os.getpid()}-"))
    args, _ = visible_args(paths, [])
    cmd = [*staging(paths, ids, scratch), *prefix(ids), "bwrap", *system_view(1 << 20), *args, *NAMESPACES,
           "--", python, "-I", "-c", "import encodings"]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap could not start ({exc})"
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        return f"bubblewrap failed: {last[:300]}"
    return ""


def remedy(reason: str) -> str:
    """What to do about ``reason`` (from :func:`probe`), in one line."""
    unsafe = "or grade without any isolation, at your own risk: --sandbox none"
    if "not installed" in reason:
        tool = "util-linux" if "setpriv" in reason else "bubblewrap"
        return f"install {tool} (apt-get install {tool}, dnf install {tool}), {unsafe}"
    settings = []
    for path, value, wanted in (("/proc/sys/kernel/unprivileged_userns_clone", "0", "1"),
                                ("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1", "0"),
                                ("/proc/sys/user/max_user_namespaces", "0", "15000")):
        try:
            if Path(path).read_text().strip() == value:
                settings.append(f"sysctl {path[len('/proc/sys/'):].replace('/', '.')}={wanted}")
        except OSError:
            continue
    if settings:
        return f"allow unprivileged user namespaces ({'; '.join(settings)}), {unsafe}"
    if "namespace" in reason or "uid map" in reason or "not permitted" in reason:
        return ("allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, or "
                "kernel.apparmor_restrict_unprivileged_userns=0; in a container, a seccomp profile that "
                f"allows them), {unsafe}")
    return f"check that bubblewrap works here (bwrap --ro-bind / / true), {unsafe}"


def command(*, python: str, script: str, control_fd: int, config: dict, env: dict, mounts: Mounts,
            ids: tuple[int, int] | None, stage: list[str], gpu_devices: list[str]) -> list[str]:
    """The full command line: staging, setpriv, bwrap and the worker."""
    args = [*stage, *prefix(ids), "bwrap", *mounts.args]
    for dev in gpu_devices:
        args += ["--dev-bind", dev, dev]
    args += [*NAMESPACES, "--clearenv"]
    for key, value in env.items():
        args += ["--setenv", key, value]
    args += ["--chdir", "/", "--", python, "-I", "-B", script, "--control-fd", str(control_fd),
             "--config", json.dumps(config)]
    return args
