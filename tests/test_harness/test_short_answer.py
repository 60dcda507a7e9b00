"""Written answers: which ones an instructor must read, and the exercise's "always review"."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from dlgrade.errors import SpecError
from dlgrade.harness.course import Exercise
from dlgrade.harness.questions import Checks
from dlgrade.harness.short_answer import grade_short_answer

RUBRIC = {"q6": {"key_points": [
    {"id": "unseen", "label": "it measures performance on unseen data", "phrases": ["unseen data", "held out data"]},
    {"id": "overfit", "label": "it reveals overfitting", "phrases": ["overfit*"]}], "min_words": 8}}
PROMPT = "Why do we keep a test set apart from training?"
FULL = "A score on unseen data shows whether the model generalizes or whether it overfits the training set."


def _grade(tmp_path: Path, answer: str, review: dict | None = None) -> Checks:
    (tmp_path / "rubrics.yaml").write_text(yaml.safe_dump(RUBRIC))
    exercise = SimpleNamespace(rubrics_path=tmp_path / "rubrics.yaml", review=review or {})
    t = Checks(SimpleNamespace(exercise=exercise))
    grade_short_answer(SimpleNamespace(answer_text=lambda qid: answer), t, "q6", points=2, prompt=PROMPT)
    return t


@pytest.mark.parametrize("answer, points, flagged", [
    ("", 0, False),                                   # untouched: 0, nothing to read
    ("   \n", 0, False),                              # blank
    (FULL, 2, False),                                 # every key point, long enough: full, no doubt
    ("It would overfit otherwise, I think, so we check that.", 1, True),   # half the points: unsure
    ("Overfitting.", 1, True),                        # credit but shorter than min_words
])
def test_only_answers_the_rubric_is_unsure_about_are_flagged(tmp_path, answer, points, flagged):
    """Are empty answers 0 and full, clear answers full, both without review, and the rest flagged?"""
    t = _grade(tmp_path, answer)
    assert sum(c.points for c in t.results if c.passed) == points
    assert bool(t.review_reasons) is flagged


def test_always_review_flags_every_non_empty_answer(tmp_path):
    """With `review: {q6: always}`, is even a full, clear answer flagged (but not an empty one)?"""
    assert _grade(tmp_path, FULL, {"q6": "always"}).review_reasons
    assert not _grade(tmp_path, "", {"q6": "always"}).review_reasons


def test_an_answer_past_the_length_cap_is_graded_on_its_start_and_flagged(tmp_path):
    """An answer of 400,000 characters (text the grader's own process reads): is its start graded (a full
    answer keeps its points) and is it flagged with the reason, instead of all of it being read?"""
    from dlgrade.rubric.grade import MAX_ANSWER_CHARS

    t = _grade(tmp_path, FULL + " " + "a. " * 130_000)
    assert sum(c.points for c in t.results if c.passed) == 2
    assert any(f"only the first {MAX_ANSWER_CHARS:,} were graded" in r for r in t.review_reasons)
    assert not any("only the first" in r for r in _grade(tmp_path, FULL).review_reasons)


def test_review_field_is_validated_with_file_and_field(tmp_path):
    """Does exercise.yaml's `review` accept 'always'/'auto' only, naming the file and the question?"""
    folder = tmp_path / "autograder" / "ex"
    folder.mkdir(parents=True)
    spec = {"title": "t", "notebook": "ex.ipynb", "profiles": {"quick": {}}, "review": {"q6": "always"}}
    (folder / "exercise.yaml").write_text(yaml.safe_dump(spec))
    assert Exercise.load(tmp_path, "ex").review == {"q6": "always"}
    (folder / "exercise.yaml").write_text(yaml.safe_dump(spec | {"review": {"q6": "sometimes"}}))
    with pytest.raises(SpecError, match=r"exercise.yaml: review.q6 should be 'always' or 'auto'"):
        Exercise.load(tmp_path, "ex")
