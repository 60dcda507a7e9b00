"""An exercise's own trusted objects: ``autograder/<ex>/factories.py``, loaded with its tests, built on the
student's side from the source that travels with the request."""
from __future__ import annotations

import pytest

from dlgrade.errors import SpecError
from dlgrade.harness import factories
from dlgrade.harness.integrity import fingerprints
from dlgrade.harness.questions import factories_beside, load_questions
from dlgrade.harness.submission import LocalSubmission

FACTORIES = '''from dlgrade.harness.factories import factory

@factory("counter_{tag}")
def make_counter(start):
    """Counts up from ``start`` each time it is called."""
    class Counter:
        def __init__(self):
            self.n = int(start)
        def __call__(self):
            self.n += 1
            return self.n
    return Counter()
'''
TESTS = '''from dlgrade.harness import question

@question("q1", points=1, title="uses the counter")
def q1(sub, t):
    t.check(sub.call("use", sub.make("counter_{tag}", 5)) == 6, "use() calls the counter once", points=1)
'''


def _exercise(folder, tag: str, factories_source: str = FACTORIES):
    folder.mkdir(parents=True)
    (folder / "factories.py").write_text(factories_source.format(tag=tag))
    (folder / "tests.py").write_text(TESTS.format(tag=tag))
    return folder / "tests.py"


def test_factories_beside_tests_and_packaged_checks(tmp_path):
    """Is an exercise's factories file found beside its tests and self-checks, and beside a packaged copy?"""
    assert factories_beside(tmp_path / "ex" / "tests.py") == tmp_path / "ex" / "factories.py"
    assert factories_beside(tmp_path / "ex" / "public.py") == tmp_path / "ex" / "factories.py"
    assert factories_beside(tmp_path / "public" / "toy.py") == tmp_path / "public" / "toy_factories.py"


def test_exercise_factory_is_built_on_the_student_side_from_its_source(tmp_path):
    """Does a test of an exercise build that exercise's own object on the student's side, from the source
    sent with the request, without it entering dlgrade's own registry?"""
    before = fingerprints()
    (question,) = load_questions(_exercise(tmp_path / "ex", "a"))
    assert "counter_a" not in factories._FACTORIES and factories.exercise_source("counter_a")[0] == "ex/factories.py"
    sub = LocalSubmission({"use": lambda counter: counter()})
    sent = []
    real_send = sub._send
    sub._send = lambda op, fields, timeout: sent.append((op, fields)) or real_send(op, fields, timeout)
    from dlgrade.harness.questions import run_question

    result = run_question(question, sub)
    assert result.earned == 1, result
    assert [op for op, _ in sent][:2] == ["make", "call"] and "def make_counter" in sent[0][1]["source"]
    assert fingerprints() == before, "loading an exercise's factories changed dlgrade's fingerprints"


def test_broken_or_clashing_factories_name_the_file(tmp_path):
    """Is a factories file that fails, or that takes the name of one of dlgrade's own, one SpecError
    naming the file?"""
    broken = _exercise(tmp_path / "broken", "b", "raise RuntimeError('oops')\n")
    with pytest.raises(SpecError, match=r"broken/factories.py: could not load factories: RuntimeError: oops"):
        load_questions(broken)
    clash = _exercise(tmp_path / "clash", "c", FACTORIES.replace('"counter_{tag}"', '"mode_probe"'))
    with pytest.raises(SpecError, match="factory 'mode_probe' is one of dlgrade's own"):
        load_questions(clash)
    assert factories._FACTORIES["mode_probe"].__module__ == "dlgrade.harness.factories"


def test_unknown_exercise_factory_is_reported(tmp_path):
    """Does asking for a name the sent source does not define say which name, as for dlgrade's own?"""
    from dlgrade.harness.errors import StudentError

    load_questions(_exercise(tmp_path / "ex", "d"))
    sub = LocalSubmission({})
    own = factories.exercise_source("counter_d")
    with pytest.raises(StudentError, match="unknown grader object 'nothing'"):
        sub._request("make", factory="nothing", args=[], kwargs={}, seed=None, source=own[1], label=own[0])
