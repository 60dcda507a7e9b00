"""Back a process's anonymous memory with huge pages, so that forking it, and ending what it forked, cost less.

The grading worker's zygote holds about 500 MB of anonymous memory once torch,
scikit-learn and matplotlib are imported. ``fork`` copies one page-table entry
per 4 KiB page of it, and each child's exit releases them again: some 30 ms each
way per submission on a 2-core machine. The same memory in 2 MiB pages takes one
entry per huge page. :func:`collapse` asks the kernel to rebuild the zygote's
anonymous mappings that way (``MADV_COLLAPSE``, Linux 6.1 and later), once,
before the first child. Children still copy on write 4 KiB at a time: a huge
page shared with the zygote is split where a child writes, not copied whole.

Nothing depends on it: on an older kernel, or where the kernel declines, the
memory stays as it was and grading is as before.
"""
from __future__ import annotations

import ctypes
import ctypes.util

MADV_COLLAPSE = 25
HUGE_PAGE = 2 << 20
CHUNK = 32 << 20
"""Collapsed a piece at a time: a refused piece does not stop the others."""


def anonymous_ranges(maps: str) -> list[tuple[int, int]]:
    """``(start, length)`` of the whole huge pages inside the private, writable, anonymous mappings
    (the heap and unnamed ones) of a ``/proc/PID/maps`` text, in pieces of at most :data:`CHUNK`."""
    ranges = []
    for line in maps.splitlines():
        parts = line.split()
        if len(parts) < 5 or not parts[1].startswith("rw") or parts[1][3] != "p":
            continue
        if len(parts) > 5 and parts[5] != "[heap]":
            continue
        low, high = (int(x, 16) for x in parts[0].split("-"))
        start, end = -(-low // HUGE_PAGE) * HUGE_PAGE, high // HUGE_PAGE * HUGE_PAGE
        for piece in range(start, end, CHUNK):
            ranges.append((piece, min(CHUNK, end - piece)))
    return ranges


def collapse() -> int:
    """Collapse this process's anonymous memory into huge pages where the kernel agrees; the bytes
    collapsed (0 on a kernel without ``MADV_COLLAPSE``)."""
    try:
        with open("/proc/self/maps") as f:
            maps = f.read()
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return 0
    madvise = libc.madvise
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    madvise.restype = ctypes.c_int
    done = 0
    for start, length in anonymous_ranges(maps):
        if madvise(start, length, MADV_COLLAPSE) == 0:     # else EINVAL (no such advice), EAGAIN, ENOMEM...
            done += length
    return done
