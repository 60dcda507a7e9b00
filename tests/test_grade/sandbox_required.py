"""The security suites' gate: skip without a sandbox on a developer's machine, fail in CI.

Under ``CI=true`` on Linux a sandbox that cannot start is a test failure with its
reason, never a skip: otherwise a green CI run could mean the attack suite never ran.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dlgrade.sandbox import sandbox_problem


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes") and sys.platform.startswith("linux")


def require_sandbox() -> None:
    """Skip (or, in CI, fail) the calling test when the bubblewrap sandbox cannot start here."""
    why = sandbox_problem()
    if not why:
        return
    if in_ci():
        pytest.fail(f"the bubblewrap sandbox cannot start on this CI machine: {why}", pytrace=False)
    pytest.skip(f"bubblewrap sandbox unavailable: {why}")


@pytest.fixture()
def sandbox_required() -> None:
    require_sandbox()


def host_folders_under_tmp() -> set[str]:
    """Names in /tmp that the sandbox shows because it binds the interpreter, its packages or dlgrade from
    there (a course cloned under /tmp): mount points of the grader's own read-only files, not leftovers."""
    import dlgrade

    names = set()
    for path in (Path(sys.prefix), Path(sys.base_prefix), Path(dlgrade.__file__).parent, Path(sys.executable)):
        for p in {path, path.resolve()}:
            if len(p.parts) > 2 and p.parts[:2] == ("/", "tmp"):
                names.add(p.parts[2])
    return names


PROBE = """
import mmap
from dlgrade.sandbox.hugepages import collapse
area = mmap.mmap(-1, 64 << 20, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
area.write(b"x" * (64 << 20))
done = collapse()
huge = [int(line.split()[1]) for line in open("/proc/self/smaps_rollup") if line.startswith("AnonHugePages:")]
print(done >> 20, huge[0] >> 10)
"""


def kernel_collapses() -> tuple[int, int]:
    """(MiB collapsed, MiB of huge pages after) in a fresh small process that filled 64 MiB."""
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True)
    done, huge = map(int, out.stdout.split())
    return done, huge
