"""The exchange folder: arrays and figures that cross between the grader and a submission's process.

The folder is writable by the student's process, so the grader opens files in it
relative to a descriptor of the folder taken before that process existed, never
through links, never blocking on FIFOs, and creates its own files exclusively
(a planted link cannot redirect a write). Arrays are ``.npy`` files read with
``allow_pickle=False``; figures are small regular PNG files.
"""
from __future__ import annotations

import os
import re
import stat
import tempfile
from itertools import count
from pathlib import Path

import numpy as np

from dlgrade.harness.errors import BadOutput
from dlgrade.harness.values import MAX_ARRAY_BYTES, DirStore
from dlgrade.sandbox.limits import MAX_FIGURE_BYTES

__all__ = ["MAX_FIGURE_BYTES", "PNG_MAGIC", "ExchangeStore", "make_exchange", "read_png", "submission_folder"]

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_OPEN_FLAGS = os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK  # no links, no blocking on a FIFO


class ExchangeStore(DirStore):
    """A :class:`DirStore` safe in a folder the student's process can write to.

    Files are opened relative to a descriptor of the folder taken before the
    student's process existed, never through links, never blocking on FIFOs, and
    the grader's files are created exclusively (a planted link cannot redirect a write).
    """

    def __init__(self, directory: Path, side: str, dir_fd: int):
        super().__init__(directory, side)
        self.dir_fd = dir_fd
        self.prefix, self.other = side, "s" if side == "g" else "g"
        self.names = count()

    def put(self, array: np.ndarray) -> str:
        name = f"{self.prefix}{next(self.names)}.npy"
        try:
            os.unlink(name, dir_fd=self.dir_fd)
        except FileNotFoundError:
            pass
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _OPEN_FLAGS, 0o644, dir_fd=self.dir_fd)
        with os.fdopen(fd, "wb") as fh:
            np.save(fh, np.asarray(array, order="C"), allow_pickle=False)
        return name

    def get(self, name: str) -> np.ndarray:
        if not isinstance(name, str) or not re.fullmatch(self.other + r"\d{1,12}\.npy", name):
            raise BadOutput(f"invalid array reference {str(name)[:60]!r}")
        try:
            fd = os.open(name, os.O_RDONLY | _OPEN_FLAGS, dir_fd=self.dir_fd)
        except OSError:
            raise BadOutput(f"array file {name} is missing or not a regular file") from None
        try:
            with os.fdopen(fd, "rb") as fh:
                info = os.fstat(fh.fileno())
                if not stat.S_ISREG(info.st_mode):
                    raise BadOutput(f"array file {name} is not a regular file")
                if info.st_size > MAX_ARRAY_BYTES:
                    raise BadOutput(f"array {name} is larger than {MAX_ARRAY_BYTES >> 20} MiB")
                os.set_blocking(fh.fileno(), True)
                return np.load(fh, allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise BadOutput(f"array {name} could not be read: {exc}"[:300]) from None
        finally:
            try:
                os.unlink(name, dir_fd=self.dir_fd)
            except OSError:
                pass


def read_png(dir_fd: int, name: str) -> bytes | None:
    """The PNG file ``name`` in the folder, or None when it is not a small, regular PNG file."""
    try:
        fd = os.open(name, os.O_RDONLY | _OPEN_FLAGS, dir_fd=dir_fd)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_FIGURE_BYTES:
            return None
        data = fh.read(MAX_FIGURE_BYTES + 1)
    return data if data.startswith(PNG_MAGIC) and len(data) <= MAX_FIGURE_BYTES else None


def make_exchange(*, on_shm: bool) -> tuple[Path, Path]:
    """A new exchange folder ``<tmp>/dlgrade-box-<pid>-*/box`` and an empty read-only file beside it
    (bound over hidden files); remove their parent when done. ``on_shm``: in ``/dev/shm`` (tmpfs, so
    files the student writes count against the memory cgroup) where it is writable."""
    shm = Path("/dev/shm")
    on_shm = on_shm and shm.is_dir() and os.access(shm, os.W_OK)
    parent = Path(tempfile.mkdtemp(prefix=f"dlgrade-box-{os.getpid()}-", dir=shm if on_shm else None))
    os.chmod(parent, 0o711)  # the sandbox user passes through to its bind mount
    box, empty = parent / "box", parent / "empty"
    box.mkdir()
    os.chmod(box, 0o755)
    empty.touch()
    os.chmod(empty, 0o444)
    return box, empty


def submission_folder(folder: Path, ids: tuple[int, int] | None) -> Path:
    """``folder`` with its ``io``, ``work`` and ``tmp`` folders, private to ``ids`` (uid, gid) when given."""
    folder.mkdir(mode=0o700)
    for sub in ("io", "work", "tmp"):
        (folder / sub).mkdir(mode=0o700)
    if ids is not None:
        for path in (folder, folder / "io", folder / "work", folder / "tmp"):
            os.chown(path, *ids)
    return folder
