"""What the sandbox sees of the file system: the bubblewrap mount arguments.

The sandbox sees an *allow-list* view of the file system, the same wherever the
course, the virtual environment or the outputs live:

* the system folders (:data:`SYSTEM`) read-only; a fresh ``/dev`` and ``/proc``;
  private ``/tmp`` and ``/dev/shm`` (tmpfs) and an empty ``/run``;
* read-only, each at its real path: the interpreter and what ``python -I`` needs
  (prefixes, ``sys.path``), dlgrade's source, the student views of the data (never the data files) and
  the course's public ``assignments/`` (:func:`visible_paths`); nested paths
  collapse to the outermost, and symbolic links on the way to them are recreated;
* the exchange folder read-write at :data:`SANDBOX_BOX`.

Nothing else of the machine exists inside: not the course's hidden tests,
solutions or quizzes, not the outputs, not other students' submissions. Where
one of those lies inside a visible folder (a data folder that holds the course,
say), it is masked (an empty read-only tmpfs for a folder, an empty file for a
file). Data files inside installed packages that hold held-out test data (listed
by ``dlgrade.data.sandbox_masked_files()``, where that function exists) cannot be
read: ``/dev/null`` is bound read-only over each, and as bubblewrap's binds allow
no device access, opening it fails (``EACCES``). The bubblewrap command line
around this view is built in :mod:`dlgrade.sandbox.bwrap`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

SANDBOX_BOX = "/run/dlgrade/box"
"""Where the exchange folder appears inside the sandbox."""
SYSTEM = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/sys")
"""System folders visible read-only (a symbolic link among them is recreated as one)."""
COURSE_PRIVATE = ("autograder", "solutions", "quizzes", ".git")
"""Folders of a course masked should a visible folder hold them."""
COURSE_PUBLIC = ("assignments",)
"""Folders of a course the sandbox sees."""


@dataclass
class Mounts:
    """bubblewrap arguments for the file system."""

    args: list[str] = field(default_factory=list)
    visible: list[str] = field(default_factory=list)
    """Folders of the machine bound into the sandbox, besides the system folders."""
    hidden: list[str] = field(default_factory=list)
    """Paths masked inside the visible folders (held-out data files included)."""
    warnings: list[str] = field(default_factory=list)


def under(path: Path, folder: Path) -> bool:
    """Whether ``path`` is ``folder`` or lies inside it (no links resolved)."""
    return path == folder or folder in path.parents


def visible_paths(needed: list[Path], course_root: Path | None) -> list[Path]:
    """What the sandbox sees besides the system: ``needed`` and the course's public folders."""
    paths = list(needed)
    if course_root is not None:
        paths += [Path(course_root) / name for name in COURSE_PUBLIC]
    return paths


def outermost(paths) -> list[Path]:
    """``paths`` without those inside another one (order kept, duplicates removed)."""
    paths = list(dict.fromkeys(paths))
    return [p for p in paths if not any(q != p and under(p, q) for q in paths)]


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


def is_system(path: Path) -> bool:
    """Whether ``path`` lies in one of the :data:`SYSTEM` folders."""
    return any(under(path, Path(name)) for name in SYSTEM)


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
        if not is_system(real):
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
        visible = is_system(here) or any(under(here, r) for r in roots)
        found = [] if visible else [(os.readlink(here), str(here))]
        rest = Path(os.path.realpath(here)).joinpath(*parts[i + 1:])
        return found + _links(rest, roots, depth + 1)
    return []


def visible_args(visible: list[Path], warnings: list[str]) -> tuple[list[str], list[Path]]:
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


def masked_data_files() -> list[Path]:
    """Data files of installed packages that hold held-out test data, where ``dlgrade.data`` lists them
    (``sandbox_masked_files()``); none where it does not."""
    import dlgrade.data

    listed = getattr(dlgrade.data, "sandbox_masked_files", None)
    return [Path(p) for p in listed()] if callable(listed) else []


def plan_mounts(*, visible: list[Path], hidden: list[Path], box: Path, empty: Path, tmp_bytes: int,
                private: list[Path] = (), masked_files: list[Path] | None = None) -> Mounts:
    """The file-system view described in the module docstring.

    ``visible``: paths to bind read-only (see :func:`visible_paths`); ``hidden``: paths
    masked where they lie inside a visible folder, as are ``private`` ones (the course's
    hidden parts) and the exchange folder's parent; ``empty``: an empty file the sandbox
    user can reach, bound over hidden files. ``masked_files``: files with ``/dev/null`` bound over
    them wherever the sandbox would see them (default: :func:`masked_data_files`).
    """
    # listed first: listing writes the student views into the data home, which must exist to be bound
    masked_files = masked_data_files() if masked_files is None else masked_files
    m = Mounts(args=system_view(tmp_bytes))
    args, roots = visible_args(visible, m.warnings)
    m.args += args
    m.visible = [str(r) for r in roots]
    masks = [Path(os.path.realpath(p)) for p in (*hidden, *private, box.parent)]
    masks = [p for p in outermost(masks) if any(under(p, r) for r in roots)]
    remount = []
    for path in masks:
        if any(under(r, path) for r in roots):
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
    for path in masked_files:
        real = Path(os.path.realpath(path))
        if any(under(real, p) for p in map(Path, m.hidden)) or not real.is_file():
            continue  # already masked, or nothing to read there
        if is_system(real) or any(under(real, r) for r in roots):  # else the sandbox cannot see it anyway
            m.args += ["--ro-bind", "/dev/null", str(real)]
            m.hidden.append(str(real))
    m.args += ["--bind", str(box), SANDBOX_BOX]
    for path in (*remount, Path("/run"), Path("/")):  # the sandbox's own root last: nothing new appears in it
        m.args += ["--remount-ro", str(path)]
    return m
