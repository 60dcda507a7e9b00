"""The bubblewrap command line that confines a worker, and whether bubblewrap works here.

Inside the sandbox the machine's ``/`` is visible read-only, with these changes:

* a fresh ``/dev`` and ``/proc``, private ``/tmp`` and ``/dev/shm`` (tmpfs), an empty ``/run``;
* the course folder is hidden under an empty read-only tmpfs (hidden tests,
  solutions, thresholds, quizzes, its ``.git``), and so are the ``hidden`` paths
  (grader outputs, other students' submissions); a hidden file becomes an empty file.
  What Python needs from the course folder (a virtual environment, dlgrade's
  source) and its public ``assignments/`` are bound back read-only;
* the exchange folder is bound read-write at :data:`SANDBOX_BOX`;
* all namespaces are unshared (network, PID, IPC, UTS, user), no further user
  namespaces may be made, the sandbox runs in a new session and dies with the grader;
  the worker is the PID namespace's init (pid 1).

When the grader runs as root, bubblewrap is started as :data:`SANDBOX_USER`
through ``setpriv --no-new-privs`` (started as root, bwrap would keep root's
power and could read root-only files). That user cannot enter folders such as
``/root``, where Python may be installed (pyenv): such folders are then
*staged* first, as root, in a private mount namespace (``unshare --mount``): each
is covered by an empty tmpfs into which only what Python needs is bound back,
so the sandbox sees the interpreter and nothing else of them. The host's mounts
are not touched.
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
from dataclasses import dataclass, field
from pathlib import Path

SANDBOX_BOX = "/run/dlgrade/box"
"""Where the exchange folder appears inside the sandbox."""
SANDBOX_USER = "nobody"
"""The unprivileged user a root grader runs the sandbox as."""
COURSE_PRIVATE = ("autograder", "solutions", "quizzes", ".git")
"""Folders of a course hidden when the course folder itself cannot be (it is ``/``)."""
COURSE_PUBLIC = ("assignments",)
"""Folders of a course bound back into the sandbox when the whole course folder is hidden."""
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


def _under(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


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
        paths = [p for p in paths if not any(o != p and _under(p, o) for o in paths)]
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
    """'' when bubblewrap can start ``python`` here as :func:`command` would, else why not."""
    if shutil.which("bwrap") is None:
        return "bubblewrap not found"
    if ids is not None and shutil.which("setpriv") is None:
        return "setpriv not found (needed to run bubblewrap as an unprivileged user)"
    scratch = Path(tempfile.mkdtemp(prefix="dlgrade-probe-"))
    cmd = [*staging([Path(p) for p in needed], ids, scratch), *prefix(ids), "bwrap", "--ro-bind", "/", "/",
           "--dev", "/dev", "--proc", "/proc", "--size", str(1 << 20), "--tmpfs", "/tmp", *NAMESPACES,
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
        return f"bubblewrap failed: {last}"
    return ""


@dataclass
class Mounts:
    """bubblewrap arguments for the file system."""

    args: list[str] = field(default_factory=list)
    hidden: list[str] = field(default_factory=list)
    """Paths hidden from the sandbox."""
    warnings: list[str] = field(default_factory=list)


def plan_mounts(*, course_root: Path | None, hidden: list[Path], needed: list[Path], box: Path,
                empty: Path, same_user: bool, tmp_bytes: int) -> Mounts:
    """The file-system view described in the module docstring.

    ``empty``: an empty file the sandbox user can reach, bound over hidden files.
    ``same_user``: the sandbox runs as the grader's own user, whose home is hidden too.
    """
    m = Mounts()
    m.args += ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
               "--size", str(tmp_bytes), "--tmpfs", "/tmp", "--size", str(tmp_bytes), "--tmpfs", "/dev/shm",
               "--tmpfs", "/run"]
    needed = [p.resolve() for p in needed if p.is_dir()]
    masks: list[Path] = []
    if course_root is not None:
        course_root = course_root.resolve()
        if course_root == Path("/"):
            masks += [course_root / name for name in COURSE_PRIVATE if (course_root / name).exists()]
        elif course_root.is_dir():
            masks.append(course_root)
            needed += [course_root / name for name in COURSE_PUBLIC if (course_root / name).is_dir()]
    home = Path.home().resolve()
    if same_user and home != Path("/") and home.is_dir():
        masks.append(home)
    masks = [p for p in dict.fromkeys(masks) if not any(q != p and _under(p, q) for q in masks)]
    rebinds = [p for p in dict.fromkeys(needed) if any(_under(p, q) for q in masks)]
    rebinds = [p for p in rebinds if not any(q != p and _under(p, q) for q in rebinds)]
    for path in masks:
        m.args += ["--tmpfs", str(path)]
        m.hidden.append(str(path))
    for path in sorted(rebinds, key=lambda p: len(p.parts)):
        m.args += ["--ro-bind", str(path), str(path)]
    m.args += ["--bind", str(box), SANDBOX_BOX]
    remount = [*masks, Path("/run")]
    for path in dict.fromkeys(p.resolve() for p in hidden):
        if any(_under(n, path) for n in needed):
            m.warnings.append(f"{path} holds what Python needs; it stays visible to the sandbox")
            continue
        if any(_under(path, q) for q in masks) and not any(_under(path, r) for r in rebinds):
            continue  # already hidden
        if path.is_dir():
            m.args += ["--tmpfs", str(path)]
            remount.append(path)
        elif path.exists():
            m.args += ["--ro-bind", str(empty), str(path)]
        else:
            m.warnings.append(f"{path} does not exist yet, so it cannot be hidden; create it before the worker")
            continue
        m.hidden.append(str(path))
    for path in remount:
        m.args += ["--remount-ro", str(path)]
    return m


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
