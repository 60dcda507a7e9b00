"""The zygote's memory in huge pages: which mappings are asked for, and that the kernel's answer is used."""
from __future__ import annotations

import pytest
from sandbox_required import kernel_collapses

from dlgrade.sandbox.hugepages import CHUNK, HUGE_PAGE, anonymous_ranges

MB = 1 << 20


def test_only_whole_huge_pages_of_private_writable_anonymous_memory_are_asked_for():
    """Are the heap and unnamed private writable mappings taken, trimmed to whole 2 MiB pages and cut in
    pieces, and files, shared, read-only and small mappings left alone?"""
    maps = "\n".join([
        "00400000-00600000 r-xp 00000000 08:01 123 /usr/bin/python3.11",
        "00a00000-05300000 rw-p 00000000 00:00 0 [heap]",
        "7f0000100000-7f0004100000 rw-p 00000000 00:00 0 ",
        "7f0010000000-7f0014000000 rw-p 00000000 08:01 456 /usr/lib/libtorch_cpu.so",
        "7f0020000000-7f0024000000 rw-s 00000000 00:05 789 /dev/shm/segment",
        "7f0030000000-7f0034000000 r--p 00000000 00:00 0 ",
        "7f0040000000-7f0040100000 rw-p 00000000 00:00 0 ",
        "7ffc00000000-7ffc00400000 rw-p 00000000 00:00 0 [stack]",
    ])
    ranges = anonymous_ranges(maps)
    heap = [r for r in ranges if r[0] < 0x7f0000000000]
    assert heap[0] == (0xa00000, CHUNK) and sum(n for _, n in heap) == 0x5200000 - 0xa00000
    assert all(start % HUGE_PAGE == 0 and 0 < n <= CHUNK for start, n in ranges)
    assert [r for r in ranges if r[0] >= 0x7f0000000000] == [(0x7f0000200000, 32 * MB), (0x7f0002200000, 30 * MB)]


def test_what_the_kernel_collapses_is_backed_by_huge_pages():
    """When the kernel agrees to collapse (Linux 6.1 and later), is the memory then in huge pages?"""
    done, huge = kernel_collapses()
    if not done:
        pytest.skip("this kernel does not collapse memory into huge pages (MADV_COLLAPSE, Linux 6.1+)")
    assert done >= 32 and huge >= 32
