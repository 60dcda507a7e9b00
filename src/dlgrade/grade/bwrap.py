"""The bubblewrap command line that confines a worker, and whether bubblewrap works here.

The sandbox sees an *allow-list* view of the file system, the same wherever the
course, the virtual environment or the outputs live:

* the system folders (:data:`SYSTEM`) read-only; a fresh ``/dev`` and ``/proc``;
  private ``/tmp`` and ``/dev/shm`` (tmpfs) and an empty ``/run``;
* read-only, each at its real path: the interpreter and what ``python -I`` needs
  (prefixes, ``sys.path``), dlgrade's source, the data folders of the profile and
  the course's public ``assignments/`` (:func:`visible_paths`); nested paths
  collapse to the outermost, and symbolic links on the way to them are recreated;
* the exchange folder read-write at :data:`SANDBOX_BOX`.

Nothing else of the machine exists inside: not the course's hidden tests,
solutions or quizzes, not the outputs, not other students' submissions. Where
one of those lies inside a visible folder (a data folder that holds the course,
say), it is masked (an empty read-only tmpfs for a folder, an empty file for a
file). All namespaces are unshared (network, PID, IPC, UTS, user), no further
user namespaces may be made, the sandbox runs in a new session and dies with
the grader; the worker is the PID namespace's init (pid 1).

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
from dataclasses import dataclass, field
from pathlib import Path

SANDBOX_BOX = "/run/dlgrade/box"
"""Where the exchange folder appears inside the sandbox."""
SANDBOX_USER = "nobody"
"""The unprivileged user a root grader runs the sandbox as."""
SYSTEM = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/sys")
"""System folders visible read-only (a symbolic link among them is recreated as one)."""
COURSE_PRIVATE = ("autograder", "solutions", "quizzes", ".git")
"""Folders of a course masked should a visible folder hold them."""
COURSE_PUBLIC = ("assignments",)
"""Folders of a course the sandbox sees."""
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
    """'' when bubblewrap can start ``python`` here as :func:`command` would (the same view of
    the file system, with the ``needed`` paths), else why not, in one line."""
    if shutil.which("bwrap") is None:
        return "bubblewrap (bwrap) is not installed"
    if ids is not None and shutil.which("setpriv") is None:
        return "setpriv is not installed (needed to run bubblewrap as an unprivileged user)"
    paths = [Path(p) for p in needed]
    scratch = Path(tempfile.mkdtemp(prefix=f"dlgrade-probe-{os.getpid()}-"))
    args, _ = _visible_args(paths, [])
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


@dataclass
class Mounts:
    """bubblewrap arguments for the file system."""

    args: list[str] = field(default_factory=list)
    visible: list[str] = field(default_factory=list)
    """Folders of the machine bound into the sandbox, besides the system folders."""
    hidden: list[str] = field(default_factory=list)
    """Paths masked inside the visible folders."""
    warnings: list[str] = field(default_factory=list)


def visible_paths(needed: list[Path], course_root: Path | None) -> list[Path]:
    """What the sandbox sees besides the system: ``needed`` and the course's public folders."""
    paths = list(needed)
    if course_root is not None:
        paths += [Path(course_root) / name for name in COURSE_PUBLIC]
    return paths


def outermost(paths) -> list[Path]:
    """``paths`` without those inside another one (order kept, duplicates removed)."""
    paths = list(dict.fromkeys(paths))
    return [p for p in paths if not any(q != p and _under(p, q) for q in paths)]


def system_view(tmp_bytes: int) -> list[str]:
    """The system folders read-only, fresh ``/dev`` and ``/proc``, private ``/tmp``, ``/dev/shm``, ``/run``."""
    args = []
    for name in SYSTEM:
        path = Path(name)
        if path.is_symlink():  # merged /usr: /bin -> usr/bin
            args += ["--symlink", os.readlink(path), name]
        elif path.is_dir():
            args += ["--ro-bind", name, name]
    return args + ["--dev", "/dev", "--proc", "/proc", "--size", str(tmp_bytes), "--tmpfs", "/tmp",
                   "--size", str(tmp_bytes), "--tmpfs", "/dev/shm", "--tmpfs", "/run"]


def _system(path: Path) -> bool:
    return any(_under(path, Path(name)) for name in SYSTEM)


def _roots(paths: list[Path], warnings: list[str]) -> list[Path]:
    """The real folders to bind for ``paths``: existing, outside the system folders, outermost first."""
    roots = []
    for path in paths:
        real = Path(os.path.realpath(path))
        if not real.exists():
            continue
        if real == Path("/"):
            warnings.append(f"{path} is the whole file system; it is not made visible to the sandbox")
            continue
        if not _system(real):
            roots.append(real)
    return sorted(outermost(roots), key=lambda p: (len(p.parts), str(p)))


def _links(path: Path, roots: list[Path], depth: int = 0) -> list[tuple[str, str]]:
    """(target, link) for the symbolic links on the way to ``path`` that the sandbox must recreate."""
    parts = Path(os.path.abspath(path)).parts
    here = Path("/")
    for i, part in enumerate(parts[1:], start=1):
        here = here / part
        if not here.is_symlink():
            continue
        if depth > 20:
            return []
        visible = _system(here) or any(_under(here, r) for r in roots)
        found = [] if visible else [(os.readlink(here), str(here))]
        rest = Path(os.path.realpath(here)).joinpath(*parts[i + 1:])
        return found + _links(rest, roots, depth + 1)
    return []


def _visible_args(visible: list[Path], warnings: list[str]) -> tuple[list[str], list[Path]]:
    """bubblewrap arguments binding ``visible`` read-only (and the links on the way); the bound folders."""
    roots = _roots(visible, warnings)
    args = []
    for root in roots:
        args += ["--ro-bind", str(root), str(root)]
    links = {}
    for path in visible:
        links.update((link, target) for target, link in _links(path, roots))
    for link, target in links.items():
        args += ["--symlink", target, link]
    return args, roots


def plan_mounts(*, visible: list[Path], hidden: list[Path], box: Path, empty: Path, tmp_bytes: int,
                private: list[Path] = ()) -> Mounts:
    """The file-system view described in the module docstring.

    ``visible``: paths to bind read-only (see :func:`visible_paths`); ``hidden``: paths
    masked where they lie inside a visible folder, as are ``private`` ones (the course's
    hidden parts) and the exchange folder's parent; ``empty``: an empty file the sandbox
    user can reach, bound over hidden files.
    """
    m = Mounts(args=system_view(tmp_bytes))
    args, roots = _visible_args(visible, m.warnings)
    m.args += args
    m.visible = [str(r) for r in roots]
    masks = [Path(os.path.realpath(p)) for p in (*hidden, *private, box.parent)]
    masks = [p for p in outermost(masks) if any(_under(p, r) for r in roots)]
    remount = []
    for path in masks:
        if any(_under(r, path) for r in roots):
            m.warnings.append(f"{path} holds what Python needs; it stays visible to the sandbox")
            continue
        if path.is_dir():
            m.args += ["--tmpfs", str(path)]
            remount.append(path)
        elif path.exists():
            m.args += ["--ro-bind", str(empty), str(path)]
        else:
            continue
        m.hidden.append(str(path))
    m.args += ["--bind", str(box), SANDBOX_BOX]
    for path in (*remount, Path("/run"), Path("/")):  # the sandbox's own root last: nothing new appears in it
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
