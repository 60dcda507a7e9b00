"""The grader's end of a sandboxed submission: requests and replies, cells, figures, output,
timeouts, crashes and restarts, and the checks on everything that comes back."""
from __future__ import annotations

import json
import math
import os
import signal
import time

import nbformat
import numpy as np
import pytest
import torch

from dlgrade.sandbox import Limits, Worker
from dlgrade.sandbox.channel import Channel, Closed, Malformed, TimedOut
from dlgrade.sandbox.exchange import ExchangeStore
from dlgrade.sandbox.processes import explain
from dlgrade.harness.errors import BadOutput, StudentError
from dlgrade.harness.notebook import code_cells, run_cells
from dlgrade.harness.submission import LocalSubmission
from dlgrade.harness.values import Ref

CELLS = (
    ("import numpy as np\nimport torch\nfrom torch import nn", "setup"),
    "def echo(x):\n    return x\n\ncalls = 0\ndef bump():\n    global calls\n    calls += 1\n    return calls",
    ("def sleepy(s):\n    import time\n    time.sleep(s)\n    return s\n\ndef die(code):\n    import os\n"
     "    os._exit(code)\n\ndef noisy():\n    print('{\"seq\": 99, \"ok\": true}')\n    return 'quiet'"),
    "def build():\n    torch.manual_seed(0)\n    return nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))",
    "1 / 0",
    ("raise RuntimeError('training cells are skipped when grading')", "train"),
    "%matplotlib inline\n!pip install nothing\nmagic_ok = True",
    ("import matplotlib.pyplot as plt\nfor i in range(12):\n    plt.figure()\n    plt.plot([0, i])\n"
     "print('x' * 100_000)"),
    ("md", "Because the test set was never seen.", "short_answer", "q9"),
)
OUTPUT_BYTES = 4096


@pytest.fixture(scope="module")
def worker(tmp_path_factory):
    w = Worker(course_root=tmp_path_factory.mktemp("course"), preload=[("moons", {})],
               limits=Limits(cpu_seconds=60, memory_bytes=1 << 30, output_bytes=OUTPUT_BYTES))
    yield w
    w.close()


@pytest.fixture(scope="module")
def nb():
    """The notebook of CELLS: sources, ``(source, role)`` or ``("md", text, role, question)``."""
    cells = []
    for i, spec in enumerate(CELLS):
        spec = (spec,) if isinstance(spec, str) else spec
        if spec[0] == "md":
            cell = nbformat.v4.new_markdown_cell(spec[1])
            cell.metadata["dlgrade"] = {"role": spec[2], "question": spec[3]}
        else:
            cell = nbformat.v4.new_code_cell(spec[0])
            if len(spec) > 1:
                cell.metadata["dlgrade"] = {"role": spec[1]}
        cell["id"] = f"c{i}"
        cells.append(cell)
    return nbformat.v4.new_notebook(cells=cells)


@pytest.fixture(scope="module")
def sub(worker, nb):
    with worker.open(nb, student_id="alice", time_limit=30, request_timeout=10) as s:
        yield s


def test_cells_figures_answers_output(sub):
    """Does the submission report each cell (errors, skipped roles, magics), at most ten PNG figures,
    the short answers, and the notebook's output capped?"""
    status = [c.status for c in sub.cells]
    assert status == ["ok", "ok", "ok", "ok", "error", "skipped", "ok", "ok"]
    assert "ZeroDivisionError" in sub.cells[4].message and "cell 5" in sub.cells[4].message
    assert len(sub.figures) == 10
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in sub.figures)
    assert sub.markdown_answers == {"q9": "Because the test set was never seen."}
    assert sub.get("magic_ok") is True
    assert len(sub.output.encode()) <= OUTPUT_BYTES and sub.output_dropped > 90_000


def test_values_cross_as_they_do_in_process(sub, nb):
    """Does every kind of value come back from the sandbox exactly as LocalSubmission returns it?"""
    ns: dict = {"__name__": "__main__"}
    run_cells(code_cells(nb)[:4], ns)
    local = LocalSubmission(ns)
    values = [None, True, 3, 2**70, -1.5, math.inf, "text", [1, [2, 3]], (1, "a"), {"a": 1, 2: [3]},
              np.arange(6).reshape(2, 3), np.array([True, False]), np.float32(0.5), torch.ones(2, 3)]
    for value in values:
        assert _same(sub.call("echo", value), local.call("echo", value)), value
    assert math.isnan(sub.call("echo", math.nan))
    assert isinstance(sub.call("echo", torch.zeros(1)), torch.Tensor)
    assert sub.call("noisy") == "quiet"  # a fake reply printed to stdout is only output


def _same(a, b) -> bool:
    if isinstance(a, (np.ndarray, torch.Tensor)):
        return type(a) is type(b) and a.shape == b.shape and a.dtype == b.dtype and bool((a == b).all())
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def test_models_stay_in_the_sandbox(sub):
    """Do objects come back as Refs that describe, predict, train and release in the sandbox?"""
    model = sub.call("build")
    assert isinstance(model, Ref) and model.type.endswith("Sequential")
    assert sub.describe(model)["params"] == 2 * 8 + 8 + 8 * 2 + 2
    torch.manual_seed(0)
    reference = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    X = np.random.default_rng(0).normal(size=(5, 2)).astype(np.float32)
    with torch.no_grad():
        expected = reference(torch.from_numpy(X)).numpy()
    assert np.allclose(sub.predict(model, X), expected, atol=1e-6)
    assert set(sub.state_dict(model)) == set(reference.state_dict())
    data = sub.dataset("moons")
    summary = sub.train(model, data, {"optimizer": "adam", "lr": 0.01, "batch_size": 64, "epochs": 1}, seed=0)
    assert isinstance(summary, dict)
    sub.release(model)
    with pytest.raises(StudentError, match="no longer exists"):
        sub.describe(model)


def test_timeout_kills_and_the_next_request_runs_the_notebook_again(worker, nb):
    """Does a request past its time limit raise ``timeout``, and the next one find a fresh process
    that ran the notebook again?"""
    with worker.open(nb, student_id="slow", time_limit=30, request_timeout=10) as s:
        assert [s.call("bump"), s.call("bump")] == [1, 2]
        start = time.perf_counter()
        with pytest.raises(StudentError, match="`sleepy` took longer than 1 s") as err:
            s.call_with("sleepy", (60,), timeout=1)
        assert err.value.kind == "timeout" and time.perf_counter() - start < 5
        assert s.call("bump") == 1


def test_crashes_restart_then_give_up(worker, nb):
    """Does a crash cost only its request, until the submission has used its runs?"""
    with worker.open(nb, student_id="crashy", time_limit=30, request_timeout=10) as s:
        for _ in range(s.max_runs - 1):
            with pytest.raises(StudentError, match="exited with code 3") as err:
                s.call("die", 3)
            assert err.value.kind == "crashed"
            assert s.call("bump") == 1
        with pytest.raises(StudentError, match="exited with code 3"):
            s.call("die", 3)
        with pytest.raises(StudentError, match="stopped 4 times"):
            s.call("bump")


def test_notebook_deadline_and_hung_cells(worker, notebook_factory):
    """Are cells after the notebook's time limit "not_run", and a cell that hangs stopped, skipped
    and the rest of the notebook run without it?"""
    nb = notebook_factory("import time\ntime.sleep(1.5)", "late = 1")
    with worker.open(nb, student_id="late", time_limit=1, request_timeout=10) as s:
        assert [c.status for c in s.cells] == ["ok", "not_run"]
    nb = notebook_factory("x = 1", "while True:\n    pass", "y = 2")
    with worker.open(nb, student_id="hang", time_limit=2, request_timeout=10) as s:
        assert [c.status for c in s.cells] == ["ok", "error", "ok"]
        assert "time limit (2 s)" in s.cells[1].message
        assert s.get("y") == 2


def test_close_removes_everything(worker, nb):
    """After close, are the figures gone and requests refused; does opening another submission close
    the previous one?"""
    first = worker.open(nb, student_id="a", time_limit=30, request_timeout=10)
    figures = list(first.figures)
    second = worker.open(nb, student_id="b", time_limit=30, request_timeout=10)
    assert not any(p.exists() for p in figures)
    with pytest.raises(StudentError, match="closed"):
        first.call("bump")
    assert second.call("bump") == 1
    second.close()
    second.close()  # idempotent


# -- the checks on what comes back, without a sandbox ------------------------------------------------------
def test_exchange_store_refuses_links_fifos_and_pickles(tmp_path):
    """Does the grader's store read only regular .npy files of the other side, never through a link,
    never blocking on a FIFO, never unpickling, and never write through a planted link?"""
    target = tmp_path / "target"
    target.write_text("grader file")
    io = tmp_path / "io"
    io.mkdir()
    fd = os.open(io, os.O_RDONLY | os.O_DIRECTORY)
    store = ExchangeStore(io, "g", fd)
    try:
        os.symlink(target, io / "s0.npy")
        os.mkfifo(io / "s1.npy")
        np.save(io / "s2.npy", np.array([object()], dtype=object), allow_pickle=True)
        np.save(io / "s3.npy", np.arange(3))
        for name, message in [("s0.npy", "not a regular file"), ("s1.npy", "not a regular file"),
                              ("s2.npy", "could not be read"), ("g9.npy", "invalid array reference"),
                              ("../s3.npy", "invalid array reference")]:
            with pytest.raises(BadOutput, match=message):
                store.get(name)
        assert store.get("s3.npy").tolist() == [0, 1, 2]
        os.symlink(target, io / "g0.npy")
        assert store.put(np.ones(2)) == "g0.npy"
        assert target.read_text() == "grader file" and not (io / "g0.npy").is_symlink()
    finally:
        os.close(fd)


def test_channel_checks_replies():
    """Are replies that are not JSON objects, too long, late or cut off told apart?"""
    req_r, req_w = os.pipe()
    rep_r, rep_w = os.pipe()
    chan = Channel(req_w, rep_r)
    soon = lambda: time.monotonic() + 1
    chan.send({"seq": 1, "op": "has", "fields": {}}, soon())
    assert json.loads(os.read(req_r, 1000)) == {"seq": 1, "op": "has", "fields": {}}
    os.write(rep_w, b'{"seq": 1, "ok": true, "value": 2}\n[1]\nnot json\n')
    assert chan.recv(soon()) == {"seq": 1, "ok": True, "value": 2}
    with pytest.raises(Malformed, match="not a JSON object"):
        chan.recv(soon())
    with pytest.raises(Malformed, match="not JSON"):
        chan.recv(soon())
    with pytest.raises(TimedOut):
        chan.recv(time.monotonic() + 0.1)
    os.close(rep_w)
    with pytest.raises(Closed):
        chan.recv(soon())
    chan.close()
    os.close(req_r)


def test_crash_explanations():
    """Do crash messages name the likely cause: memory, CPU time, exit code, signal?"""
    kw = {"memory_bytes": 512 << 20, "cpu_seconds": 10, "memory_limited": True}
    assert "ran out of memory (the limit is 512 MiB)" in explain({"oom": True}, **kw)
    assert "CPU time (10 s)" in explain({"status": {"signal": signal.SIGXCPU}}, **kw)
    assert "most likely it ran out of memory" in explain({"status": {"signal": signal.SIGKILL, "cpu": 1}}, **kw)
    assert "exited with code 2" in explain({"status": {"exit": 2}}, **kw)
    assert "SIGSEGV" in explain({"status": {"signal": signal.SIGSEGV}}, **kw)
    assert "sandbox it ran in stopped" in explain({"zygote_lost": "gone"}, **kw)
