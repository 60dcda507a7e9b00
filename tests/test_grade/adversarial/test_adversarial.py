"""Does any submission in the attack corpus earn a point it did not earn, break the batch, or leave
a trace for the next student? Each attack runs through one sandboxed Worker, as in a batch."""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import dlgrade

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the corpus beside this file (import mode: importlib)
from attacks import (
    ATTACKS,
    QUESTIONS,
    SECRET,
    TEMPLATE,
    Attack,
    build_notebook,
    honest_points,
    notebook,
)

from sandbox_required import host_folders_under_tmp, require_sandbox  # tests/test_grade, on the path through its conftest

from dlgrade.harness.context import Context
from dlgrade.harness.course import Exercise, Profile
from dlgrade.harness.errors import StudentError
from dlgrade.harness.notebook import restore_locked
from dlgrade.harness.questions import run_question
from dlgrade.sandbox import Limits, Worker

REPO = Path(__file__).resolve().parents[3]
LIMITS = Limits(cpu_seconds=60, memory_bytes=512 << 20, processes=128, output_bytes=64 << 10)
REQUEST_TIMEOUT = 3.0
PROBE_FILE = Path(dlgrade.__file__).parent / "harness" / "_attack_probe.txt"


@dataclass
class Outcome:
    """What the grader made of one submission."""

    results: list
    cells: list
    output: str
    dropped: int
    figures: list
    probe: object
    restored: list
    seconds: float = 0.0
    files_before: dict = field(default_factory=dict)

    @property
    def earned(self) -> float:
        return sum(r.earned for r in self.results)

    @property
    def feedback(self) -> str:
        """Everything the student would read: errors, failed checks, cell messages, restorations."""
        parts = [r.error["message"] for r in self.results if r.error]
        parts += [f"{c.message} {c.detail}" for r in self.results for c in r.checks if not c.passed]
        parts += [c.message for c in self.cells] + self.restored
        return "\n".join(parts)


@pytest.fixture(scope="module")
def paths():
    """A course with secrets, the grader's outputs, other students' files, a canary; visible to the
    sandbox user except where the sandbox hides them."""
    parent = "/var/tmp" if os.path.isdir("/var/tmp") else None
    base = Path(tempfile.mkdtemp(prefix="dlgrade-adversarial-", dir=parent))
    files = {
        "course/autograder/fake/tests.py": f"# {SECRET}: expected add([1], [2]) == [3]\n",
        "course/autograder/fake/thresholds/quick.yaml": f"moons_accuracy: {{value: 0.9, how: '{SECRET}'}}\n",
        "course/autograder/fake/exercise.yaml": f"title: fake  # {SECRET}\n",
        "course/solutions/fake/fake.ipynb": f'{{"solution": "{SECRET}"}}\n',
        "course/quizzes/week1.yaml": f"key: {SECRET}\n",
        "course/.git/objects/ab/cdef": f"{SECRET}\n",
        "course/assignments/fake/fake.ipynb": '{"public": true}\n',
        "out/results/bob.json": f'{{"earned": 1, "note": "{SECRET}"}}\n',
        "out/journal.jsonl": f'{{"student": "bob", "note": "{SECRET}"}}\n',
        "submissions/bob.ipynb": f'{{"answer": "{SECRET}"}}\n',
        "grader.key": f"{SECRET}\n",
        "canary.txt": "canary\n",
    }
    for name, text in files.items():
        (base / name).parent.mkdir(parents=True, exist_ok=True)
        (base / name).write_text(text)
    for folder, dirs, names in os.walk(base):  # readable by anyone: only the sandbox can hide them
        os.chmod(folder, 0o755)
        for name in names:
            os.chmod(os.path.join(folder, name), 0o644)
    yield {"BASE": base, "COURSE": base / "course", "OUT": base / "out", "SUBS": base / "submissions",
           "SECRETFILE": base / "grader.key", "CANARY": base / "canary.txt", "MARKER": base / "pwned",
           "PKG": Path(dlgrade.__file__).parent}
    shutil.rmtree(base, ignore_errors=True)
    PROBE_FILE.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def worker(paths):
    require_sandbox()
    os.environ["DLGRADE_TEST_SECRET"] = SECRET  # the grader's environment must not reach the student
    try:
        w = Worker(course_root=paths["COURSE"], preload=[("moons", {})], limits=LIMITS, sandbox="bwrap",
                   hidden_paths=[paths["OUT"], paths["SUBS"], paths["SECRETFILE"]])
    finally:
        del os.environ["DLGRADE_TEST_SECRET"]
    yield w
    w.close()


@pytest.fixture(scope="module")
def grade(worker, paths):
    exercise = Exercise("fake", "Fake exercise", "fake.ipynb",
                        {"quick": Profile("quick", 4.0, REQUEST_TIMEOUT, {"moons": {}})}, paths["COURSE"])
    template = build_notebook(TEMPLATE)

    def run(attack: Attack) -> Outcome:
        nb = build_notebook(attack.cells, paths)
        restored = restore_locked(nb, template)
        ctx = Context(exercise, "quick", student_id=attack.name, secret=b"grader secret")
        before = snapshot(paths["BASE"])
        start = time.perf_counter()
        with worker.open(nb, student_id=attack.name, time_limit=attack.time_limit,
                         request_timeout=attack.request_timeout) as sub:
            results = [run_question(q, sub, ctx) for q in QUESTIONS]
            probe = None
            if attack.probe:
                try:
                    probe = sub.call(attack.probe)
                except StudentError as exc:
                    probe = f"error: {exc.message}"
            out = Outcome(results, list(sub.cells), sub.output, sub.output_dropped, list(sub.figures), probe,
                          restored)
        out.seconds = time.perf_counter() - start
        out.files_before = before
        return out

    return run


def snapshot(base: Path) -> dict:
    return {str(p.relative_to(base)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(base.rglob("*")) if p.is_file() and not p.is_symlink()}


STATE = '''import os

def state():
    me = str(os.getpid())
    procs = []
    for p in os.listdir("/proc"):
        if p.isdigit() and p != me:
            try:
                procs.append(open(f"/proc/{p}/cmdline", "rb").read().replace(b"\\0", b" ").decode())
            except OSError as exc:
                procs.append(f"{p}: {exc}")
    return {"procs": procs, "tmp": os.listdir("/tmp"), "shm": os.listdir("/dev/shm"),
            "io": os.listdir("../io"), "work": os.listdir(".")}
'''


def sandbox_state(worker) -> dict:
    """What the next student finds: other processes, and the scratch folders' contents."""
    with worker.open(build_notebook([(STATE, "answer")]), student_id="probe", time_limit=10,
                     request_timeout=10) as sub:
        return sub.call("state")


def _no_secret(out: Outcome, paths) -> None:
    text = str(out.probe)
    assert text and not text.startswith("error:"), f"the probe did not run: {text[:300]}"
    assert SECRET not in text


def _nothing_written(out: Outcome, paths) -> None:
    assert "WROTE" not in str(out.probe), out.probe
    assert "Read-only file system" in str(out.probe)
    assert not PROBE_FILE.exists()


def _network_blocked(out: Outcome, paths) -> None:
    assert out.probe and all("blocked" in line for line in out.probe), out.probe


def _cell_skipped_then_rest_ran(out: Outcome, paths) -> None:
    status = {c.cell_id: c.status for c in out.cells}
    assert status["c4"] == "error" and status["c5"] == "ok", out.cells


def _output_capped(out: Outcome, paths) -> None:
    assert len(out.output.encode()) <= LIMITS.output_bytes
    assert out.dropped >= (2 << 30) - LIMITS.output_bytes


def _canary_intact(out: Outcome, paths) -> None:
    assert paths["CANARY"].read_text() == "canary\n"
    assert SECRET not in out.feedback


def _no_figure(out: Outcome, paths) -> None:
    _canary_intact(out, paths)
    assert out.figures == []


def _bounded_time(out: Outcome, paths) -> None:
    # notebook: one run to the time limit, one more; two requests to their timeout; restarts
    assert out.seconds < 40, f"the submission held the worker for {out.seconds:.1f} s"


def _forger_blamed(out: Outcome, paths) -> None:
    _cell_skipped_then_rest_ran(out, paths)
    assert "sandbox broken" not in out.feedback  # the student's text is never the grader's message


def _ptrace_denied(out: Outcome, paths) -> None:
    assert any(line.startswith("ptrace 1: -1") for line in out.probe), out.probe
    for what in ("mem", "environ"):  # each read failed with an error, recorded as "1/<what>: ..."
        assert any(line.startswith(f"1/{what}: ") for line in out.probe), out.probe


EXTRA_CHECKS = {
    "read_hidden_tests": _no_secret, "read_grader_outputs": _no_secret, "read_environment": _no_secret,
    "write_fake_results": _nothing_written, "write_other_students": _nothing_written,
    "open_socket": _network_blocked, "os_exit_cell": _cell_skipped_then_rest_ran, "output_flood": _output_capped,
    "exchange_links": _canary_intact, "figure_links": _no_figure, "sleep_stall": _bounded_time,
    "ptrace_zygote": _ptrace_denied, "forged_reply_line": _forger_blamed, "forged_progress": _forger_blamed,
}


@pytest.mark.slow
@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.name)
def test_attack_earns_nothing_unearned(attack, grade, worker, paths):
    """Does the attack end with exactly the points of its honest parts, a clear message, and no trace?"""
    out = grade(attack)
    assert out.earned == attack.earned, out.feedback
    if attack.expect:
        assert attack.expect in out.feedback, out.feedback
    assert SECRET not in out.feedback + out.output
    assert snapshot(paths["BASE"]) == out.files_before, "a file of the grader's changed"
    assert not paths["MARKER"].exists(), "code ran on the grader's side"
    check = EXTRA_CHECKS.get(attack.name)
    if check is not None:
        check(out, paths)
    if attack.clean_after:
        state = sandbox_state(worker)
        assert len(state["procs"]) == 1 and "zygote.py" in state["procs"][0], state["procs"]  # the zygote
        tmp = [name for name in state["tmp"] if name not in host_folders_under_tmp()]
        assert tmp == state["shm"] == state["work"] == [], state


@pytest.mark.slow
def test_batch_completes_after_the_corpus(grade):
    """After every attack, does an honest submission still get full marks from the same worker?"""
    out = grade(Attack("honest", "", "", notebook(), earned=honest_points()))
    assert out.earned == honest_points(), out.feedback
    assert out.seconds < 5


def test_docs_list_every_attack():
    """Does docs/security.md have a row for every attack of the corpus (and no stale ones)?"""
    text = (REPO / "docs" / "security.md").read_text()
    rows = set(re.findall(r"^\| `([a-z_]+)` \|", text, flags=re.MULTILINE))
    from test_network_attacks import NET_ATTACKS  # the network attacks' rows are in the same table

    assert rows == {a.name for a in ATTACKS} | {a.name for a in NET_ATTACKS}
