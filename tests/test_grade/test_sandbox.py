"""Isolation of the grading sandbox: what a submission's process can see and do, what limits it
runs under, and how the grader degrades when bubblewrap is missing."""
from __future__ import annotations

import logging
import os
import shutil
import signal
import statistics
import tempfile
import time
from pathlib import Path

import pytest

from dlgrade.grade import bwrap
from dlgrade.grade.sandbox import Limits, SandboxError, Worker, sandbox_problem
from dlgrade.harness.errors import StudentError

SECRET = "SECRET-c41d"
LIMITS = Limits(cpu_seconds=60, memory_bytes=512 << 20, processes=128, open_files=512,
                file_size_bytes=8 << 20, output_bytes=64 << 10)
NO_SANDBOX = sandbox_problem()
needs_bwrap = pytest.mark.skipif(bool(NO_SANDBOX), reason=f"bubblewrap sandbox unavailable: {NO_SANDBOX}")

INSPECT = '''import os, resource, socket

def inspect(course, hidden_dir, hidden_file):
    info = {"uid": os.getuid(), "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
            "interfaces": [l.split(":")[0].strip() for l in open("/proc/net/dev").read().splitlines()[2:]],
            "course": sorted(os.listdir(course)), "hidden_dir": sorted(os.listdir(hidden_dir)),
            "hidden_file": open(hidden_file).read(), "tmp": sorted(os.listdir("/tmp")), "cwd": os.getcwd(),
            "env": dict(os.environ),
            "rlimits": {n: list(resource.getrlimit(getattr(resource, "RLIMIT_" + n)))
                        for n in ("CPU", "FSIZE", "NOFILE", "NPROC", "CORE", "AS")}}
    try:
        open("/usr/dlgrade-probe", "w")
        info["root"] = "writable"
    except OSError as exc:
        info["root"] = exc.strerror
    try:
        socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        info["inet"] = "allowed"
    except OSError as exc:
        info["inet"] = exc.strerror
    socket.socketpair()  # AF_UNIX stays allowed: multiprocessing and DataLoader workers need it
    return info
'''


@pytest.fixture(scope="module")
def course():
    """A course folder readable by anyone, with hidden tests, an output folder and a key file."""
    base = Path(tempfile.mkdtemp(prefix="dlgrade-sandbox-", dir="/var/tmp" if os.path.isdir("/var/tmp") else None))
    for name, text in {"course/autograder/ex/tests.py": SECRET, "course/solutions/ex/ex.ipynb": SECRET,
                       "course/assignments/ex/ex.ipynb": "{}", "out/results/bob.json": SECRET,
                       "grader.key": SECRET}.items():
        (base / name).parent.mkdir(parents=True, exist_ok=True)
        (base / name).write_text(text)
    for folder, _, names in os.walk(base):
        os.chmod(folder, 0o755)
        for name in names:
            os.chmod(os.path.join(folder, name), 0o644)
    yield base
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def boxed(course):
    """A Worker in the bubblewrap sandbox."""
    if NO_SANDBOX:
        pytest.skip(f"bubblewrap sandbox unavailable: {NO_SANDBOX}")
    os.environ["DLGRADE_TEST_SECRET"] = SECRET
    try:
        worker = Worker(course_root=course / "course", limits=LIMITS, sandbox="bwrap",
                        hidden_paths=[course / "out", course / "grader.key"])
    finally:
        del os.environ["DLGRADE_TEST_SECRET"]
    yield worker
    worker.close()


@pytest.fixture(scope="module")
def plain(course):
    """A Worker without the sandbox (as on a student's laptop)."""
    worker = Worker(course_root=course / "course", limits=LIMITS, sandbox="none")
    yield worker
    worker.close()


def inspect(worker, course, notebook_factory) -> dict:
    with worker.open(notebook_factory(INSPECT), student_id="inspector", time_limit=10, request_timeout=10) as sub:
        return sub.call("inspect", str(course / "course"), str(course / "out"), str(course / "grader.key"))


def test_limits_are_validated():
    """Are nonsensical limits refused with a message naming the field?"""
    with pytest.raises(ValueError, match="cpu_seconds"):
        Limits(cpu_seconds=0)
    with pytest.raises(ValueError, match="processes"):
        Limits(processes=4)
    plan = Limits().rlimits(address_space=True, nproc="extra")
    assert plan["CPU"] == [600, 602] and plan["AS_EXTRA"] == [4 << 30, 4 << 30] and "NPROC_EXTRA" in plan


@needs_bwrap
def test_isolation_describes_the_sandbox(boxed):
    """Does ``isolation`` say that bubblewrap and which limits are in force?"""
    assert boxed.isolation.startswith("bubblewrap (user ")
    assert "no network" in boxed.isolation and "pid namespace" in boxed.isolation
    assert ("cgroup" in boxed.isolation) or ("RLIMIT_AS" in boxed.isolation)


@needs_bwrap
def test_sandboxed_process_sees_nothing_of_the_grader(boxed, course, notebook_factory):
    """Does the student's process run unprivileged, alone, offline, on a read-only system without the
    course's secrets, the grader's outputs or its environment?"""
    info = inspect(boxed, course, notebook_factory)
    if os.geteuid() == 0:
        assert info["uid"] == 65534
    assert info["pids"][0] == 1 and len(info["pids"]) == 2  # the zygote and this process
    assert info["interfaces"] == ["lo"]
    assert info["inet"] == "Operation not permitted"
    assert info["root"] == "Read-only file system"
    assert info["course"] == ["assignments"]  # the public part only
    assert info["hidden_dir"] == [] and info["hidden_file"] == ""
    assert info["tmp"] == []
    assert SECRET not in str(info["env"]) and info["env"]["DLGRADE_GRADING"] == "1"
    assert info["env"]["MPLBACKEND"] == "Agg"
    assert info["cwd"].startswith(bwrap.SANDBOX_BOX)


@needs_bwrap
def test_rlimits_are_applied(boxed, course, notebook_factory):
    """Does the student's process run under the Limits' CPU, file-size, open-files and process rlimits?"""
    limits = inspect(boxed, course, notebook_factory)["rlimits"]
    assert limits["CPU"] == [LIMITS.cpu_seconds, LIMITS.cpu_seconds + 2]
    assert limits["FSIZE"] == [LIMITS.file_size_bytes] * 2
    assert limits["NOFILE"] == [LIMITS.open_files] * 2
    assert limits["CORE"] == [0, 0]
    assert LIMITS.processes <= limits["NPROC"][0] <= LIMITS.processes + 64
    if "cgroup v" in boxed.isolation and "memory" in boxed.isolation:
        assert limits["AS"][0] == -1  # memory is the cgroup's job: RLIMIT_AS breaks torch


@needs_bwrap
def test_file_size_limit(boxed, notebook_factory):
    """Does writing a file past ``file_size_bytes`` fail in the student's process without killing it?"""
    nb = notebook_factory("def big():\n    with open('big.bin', 'wb') as fh:\n        fh.write(b'x' * (16 << 20))")
    with boxed.open(nb, student_id="big", time_limit=10, request_timeout=10) as sub, \
            pytest.raises(StudentError, match="File too large"):
        sub.call("big")


@needs_bwrap
def test_overhead_per_submission(boxed, notebook_factory):
    """Is the grader's own cost per submission (fork, run a small notebook, one request, clean up)
    well under the 3 s a fresh interpreter would take?"""
    nb = notebook_factory("import numpy as np\ndef add(a, b):\n    return np.asarray(a) + np.asarray(b)")
    with boxed.open(nb, student_id="warm-up", time_limit=10, request_timeout=10) as sub:
        sub.call("add", 1, 2)
    times = []
    for i in range(5):
        start = time.perf_counter()
        with boxed.open(nb, student_id=f"s{i}", time_limit=10, request_timeout=10) as sub:
            assert sub.call("add", [1, 2], [3, 4]).tolist() == [4, 6]
        times.append(time.perf_counter() - start)
    print(f"per-submission overhead: median {statistics.median(times) * 1000:.0f} ms, "
          f"max {max(times) * 1000:.0f} ms")
    assert statistics.median(times) < 3.0


def test_unsandboxed_fallback_grades_and_says_so(plain, notebook_factory):
    """Without the sandbox, is grading the same (requests, timeouts, restarts) and does ``isolation`` say
    that nothing isolates the notebook?"""
    assert plain.isolation.startswith("none: turned off")
    nb = notebook_factory("import numpy as np\ncalls = 0\ndef bump():\n    global calls\n    calls += 1\n"
                          "    return calls\ndef hang():\n    while True:\n        pass")
    with plain.open(nb, student_id="laptop", time_limit=10, request_timeout=2) as sub:
        assert [sub.call("bump"), sub.call("bump")] == [1, 2]
        with pytest.raises(StudentError, match="took longer than 2 s") as err:
            sub.call("hang")
        assert err.value.kind == "timeout"
        assert sub.call("bump") == 1  # a fresh process ran the notebook again


def test_unsandboxed_fallback_kills_what_the_notebook_started(plain, notebook_factory):
    """Without a PID namespace, are the notebook's background processes (new session, double fork)
    still killed when the submission closes?"""
    nb = notebook_factory(
        "import os, subprocess, sys, time\n"
        "bg = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'], start_new_session=True).pid\n"
        "r, w = os.pipe()\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    pid = os.fork()\n"
        "    if pid:\n"
        "        os.write(w, str(pid).encode())\n"
        "        os._exit(0)\n"
        "    time.sleep(600)\n"
        "orphan = int(os.read(r, 20))")
    with plain.open(nb, student_id="daemon", time_limit=20, request_timeout=10) as sub:
        pids = [sub.get("bg"), sub.get("orphan")]
        assert all(_alive(p) for p in pids)
    deadline = time.monotonic() + 5
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(p) for p in pids)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_auto_degrades_visibly_without_bubblewrap(monkeypatch, course, caplog):
    """Where bubblewrap is missing, does ``sandbox="auto"`` grade unsandboxed with a warning, and
    ``sandbox="bwrap"`` refuse with one clear error?"""
    real_which = shutil.which
    monkeypatch.setattr(bwrap.shutil, "which", lambda name: None if name == "bwrap" else real_which(name))
    bwrap.probe.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="dlgrade.grade.sandbox"), \
                Worker(course_root=course / "course", limits=LIMITS) as worker:
            assert worker.isolation.startswith("none: bubblewrap not found; grading unsandboxed")
        assert any("without a sandbox" in r.getMessage() for r in caplog.records)
        with pytest.raises(SandboxError, match="bubblewrap sandbox was requested but bubblewrap not found"):
            Worker(course_root=course / "course", limits=LIMITS, sandbox="bwrap")
    finally:
        bwrap.probe.cache_clear()


def test_plan_hides_course_and_outputs(tmp_path):
    """Is the course hidden with its public and Python parts bound back, a hidden file replaced by
    an empty file, and a hidden path that does not exist reported?"""
    course = tmp_path / "course"
    for sub in ("autograder", "assignments", ".venv/lib"):
        (course / sub).mkdir(parents=True)
    (tmp_path / "key").write_text("k")
    m = bwrap.plan_mounts(course_root=course, hidden=[tmp_path / "key", tmp_path / "missing",
                                                      course / "autograder"],
                          needed=[course / ".venv"], box=tmp_path, empty=tmp_path / "empty", same_user=False,
                          tmp_bytes=1 << 20)
    args = " ".join(m.args)
    assert f"--tmpfs {course} " in args and f"--remount-ro {course} " in args
    assert f"--ro-bind {course}/.venv {course}/.venv" in args
    assert f"--ro-bind {course}/assignments {course}/assignments" in args
    assert f"--ro-bind {tmp_path}/empty {tmp_path}/key" in args
    assert any("missing does not exist yet" in w for w in m.warnings)


@pytest.mark.skipif(os.geteuid() != 0, reason="staging is for a root grader dropping to another user")
def test_staging_covers_locked_folders():
    """Is a folder the sandbox user cannot enter covered, with only the needed path bound back?"""
    base = Path(tempfile.mkdtemp(dir="/var/tmp" if os.path.isdir("/var/tmp") else None))
    try:
        locked = base / "locked"
        (locked / "python" / "lib").mkdir(parents=True)
        os.chmod(base, 0o755)
        os.chmod(locked, 0o700)
        stage = bwrap.staging([locked / "python"], (65534, 65534), base)
        script = stage[stage.index("-c") + 1]
        assert f"mount -t tmpfs -o mode=0755,size=1m dlgrade-stage {locked}" in script
        assert f"mount --bind {base}/m0 {locked}/python" in script
        assert bwrap.staging([base], (65534, 65534), base) == []
    finally:
        shutil.rmtree(base)


@needs_bwrap
def test_worker_recovers_from_a_hung_zygote(boxed, notebook_factory, monkeypatch):
    """If the zygote stops answering, is its sandbox killed and a new one started for the next
    submission?"""
    nb = notebook_factory("x = 1")
    with boxed.open(nb, student_id="before", time_limit=10, request_timeout=10) as sub:
        assert sub.get("x") == 1
    zygote = _children(boxed._res.proc.pid)  # the test reaches in: nothing a student can do does this
    assert zygote
    for pid in zygote:
        os.kill(pid, signal.SIGSTOP)
    monkeypatch.setattr(boxed, "control_timeout", 2.0)
    with boxed.open(nb, student_id="after", time_limit=10, request_timeout=10) as sub:
        assert sub.get("x") == 1


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    if int(fh.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except OSError:
                continue
    return found


@pytest.mark.gpu
@pytest.mark.skipif(not Path("/dev/nvidiactl").exists(), reason="no NVIDIA GPU on this machine")
def test_gpu_job_sees_the_gpu(course, notebook_factory):
    """On a GPU machine, does a sandboxed submission see the GPU (devices bound, no RLIMIT_AS)?"""
    if NO_SANDBOX:
        pytest.skip(f"bubblewrap sandbox unavailable: {NO_SANDBOX}")
    with Worker(course_root=course / "course", limits=Limits(), sandbox="bwrap", device="cuda") as worker:
        assert "GPU devices bound" in worker.isolation
        nb = notebook_factory("import torch, resource\ndef gpu():\n"
                              "    return [torch.cuda.is_available(), float(torch.ones(2, device='cuda').sum()),"
                              " resource.getrlimit(resource.RLIMIT_AS)[0]]")
        with worker.open(nb, student_id="gpu", time_limit=60, request_timeout=60) as sub:
            assert sub.call("gpu") == [True, 2.0, -1]
